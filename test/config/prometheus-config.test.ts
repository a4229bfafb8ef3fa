import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from '../../harness/servers.js';
import { listVariants } from '../../lib/variants.js';
import { prometheusTool } from '../helpers/prometheus.js';
import { deriveConfig, needTool } from '../helpers/stack.js';

interface Compose {
  services: Record<
    string,
    {
      image?: string;
      build?: unknown;
      pull_policy?: string;
      ports?: string[];
      profiles?: string[];
      command?: string[];
      scale?: number;
      volumes?: string[];
      healthcheck?: { test: string[]; interval?: string; start_interval?: string };
    }
  >;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as Compose;
const prometheus = parse(readFileSync(join(ROOT, 'prometheus/prometheus.yml'), 'utf8')) as {
  scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
};
const env = Object.fromEntries(
  readFileSync(join(ROOT, '.env'), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => l.split(/=(.*)/s, 2) as [string, string]),
);
// Prometheus 3.5's promtool where scripts/install-tools.sh put it; else the one on PATH.
const promtool = prometheusTool('promtool');
const noPromtool = promtool === 'promtool' && needTool('promtool', 'bash scripts/install-tools.sh');
const apps = Object.keys(compose.services).filter((s) => s.startsWith('hello-world-'));

describe('prometheus/prometheus.yml', () => {
  it('passes promtool check config', { skip: noPromtool }, () => {
    const out = execFileSync(
      promtool,
      ['check', 'config', join(ROOT, 'prometheus/prometheus.yml')],
      { encoding: 'utf8' },
    );
    assert.match(out, /SUCCESS/);
  });

  it('has one job per app service, named after it, scraping its port 8000', () => {
    const jobs = prometheus.scrape_configs.filter((c) => c.job_name.startsWith('hello-world-'));
    assert.deepEqual(jobs.map((j) => j.job_name).sort(), [...apps].sort());
    for (const job of jobs)
      assert.deepEqual(job.static_configs, [{ targets: [`${job.job_name}:8000`] }]);
    assert.ok(prometheus.scrape_configs.some((c) => c.job_name === 'process-exporter'));
  });

  it(
    'derives a valid configuration for the tests, pointed at local ports',
    { skip: noPromtool },
    () => {
      const derived = deriveConfig({
        'hello-world-v1': '127.0.0.1:1234',
        'process-exporter': '127.0.0.1:9256',
      });
      const dir = mkdtempSync(join(tmpdir(), 'derived-'));
      writeFileSync(join(dir, 'prometheus.yml'), derived);
      const result = spawnSync(promtool, ['check', 'config', join(dir, 'prometheus.yml')], {
        encoding: 'utf8',
      });
      rmSync(dir, { recursive: true });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.match(derived, /127\.0\.0\.1:1234/);
      assert.doesNotMatch(derived, /hello-world-v2/);
      assert.throws(
        () => deriveConfig({ 'hello-world-v9': 'x:1' }),
        /prometheus\/prometheus.yml has no job "hello-world-v9"/,
      );
    },
  );
});

describe('docker-compose.yml', () => {
  it('has a service for each variant of the workshop, the stack and the load generator', () => {
    // Every variant under apps/, as the launcher lists them: hello-world-v3/app-1 is the
    // service hello-world-v3-1, and that service runs it.
    for (const variant of listVariants().keys()) {
      const name = variant.replace('/app-', '-');
      assert.equal(compose.services[name]?.command?.[0], variant, `${name} runs ${variant}`);
    }
    for (const name of ['prometheus', 'grafana', 'process-exporter', 'loadgen']) {
      assert.ok(compose.services[name], name);
    }
  });

  it('builds the load generator with the rest and starts it only on demand', () => {
    const loadgen = compose.services['loadgen'];
    assert.ok(loadgen);
    assert.equal(loadgen.profiles, undefined, 'a profile would keep `up` and `build` from it');
    assert.equal(loadgen.scale, 0, '`up` starts no loadgen container');
    assert.ok(loadgen.build, 'built by `docker compose up` / `build`');
  });

  it('builds the app image once, and every hello-world service only names it, never pulling it', () => {
    const builders = Object.entries(compose.services).filter(
      ([, s]) => s.image === 'lab-node-metrics-app:local' && s.build !== undefined,
    );
    assert.deepEqual(
      builders.map(([name, s]) => [name, s.scale]),
      [['app-image', 0]],
      'one build-only service builds it',
    );
    const users = Object.entries(compose.services).filter(([n]) => n.startsWith('hello-world'));
    assert.equal(users.length, listVariants().size + 1, 'every variant, and v3-2 with workers');
    for (const [name, service] of users) {
      assert.equal(service.image, 'lab-node-metrics-app:local', name);
      assert.equal(service.build, undefined, `${name} has no build: one image id, not one each`);
      assert.equal(service.pull_policy, 'never', `${name}: no registry has it`);
    }
  });

  it('mounts no /proc from the host', () => {
    for (const [name, service] of Object.entries(compose.services))
      for (const volume of service.volumes ?? [])
        assert.doesNotMatch(volume, /^\/proc(\/|:|$)/, `${name}: ${volume}`);
  });

  it('gives every running service a healthcheck that starts no runtime more often than every 2 minutes at rest, and every 2 s while it starts', () => {
    const seconds = (d = '30s'): number => {
      const m = /^(\d+)(s|m)$/.exec(d);
      assert.ok(m, `interval ${d}`);
      return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
    };
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.scale === 0) continue;
      const check = service.healthcheck;
      assert.ok(check, `${name} has a healthcheck`);
      assert.ok(seconds(check.interval) >= 120, `${name}: every ${check.interval}`);
      assert.equal(check.start_interval, '2s', `${name}: healthy soon after it starts`);
      assert.ok(!check.test.includes('node'), `${name} runs no node: ${check.test.join(' ')}`);
      assert.doesNotMatch(check.test.join(' '), /\/metrics/, `${name}: only Prometheus scrapes`);
    }
  });

  it('names every image by a pinned version from .env, never latest', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const image = service.image ?? '';
      const resolved = image.replace(/\$\{(\w+)\}/g, (_m, v: string) => env[v] ?? `<unset ${v}>`);
      if (service.build !== undefined || service.pull_policy === 'never') {
        assert.match(resolved, /^lab-node-metrics-[a-z]+:local$/, `${name} is built here`);
        continue;
      }
      assert.match(image, /^\$\{[A-Z_]+_IMAGE\}$/, `${name} takes its image from .env`);
      assert.match(resolved, /^[\w./-]+:v?\d+\.\d+(\.\d+)?(-[\w.-]+)?$/, `${name}: ${resolved}`);
    }
    for (const [name, value] of Object.entries(env).filter(([k]) => k.endsWith('_IMAGE'))) {
      assert.match(value, /:v?\d+\.\d+/, `${name}=${value}`);
      assert.doesNotMatch(value, /:latest$/, name);
    }
  });

  it('publishes every port on 127.0.0.1 only', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const port of service.ports ?? [])
        assert.match(port, /^127\.0\.0\.1:/, `${name}: ${port}`);
    }
  });
});
