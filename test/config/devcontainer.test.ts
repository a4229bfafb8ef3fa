import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { type ParseError, parse as parseJsonc, printParseErrorCode } from 'jsonc-parser';
import { parse } from 'yaml';
import { ROOT } from '../../harness/servers.js';
import { composeDevContainerSchema } from './devcontainer-schema.js';

interface DevContainer {
  dockerComposeFile: string[];
  service: string;
  runServices: string[];
  workspaceFolder: string;
  overrideCommand: boolean;
  forwardPorts: Array<number | string>;
  portsAttributes: Record<string, { label?: string; onAutoForward?: string }>;
  hostRequirements: { cpus: number; memory: string; storage: string };
}

interface Service {
  ports?: Array<{ target: number }>;
  scale?: number;
  environment?: Record<string, string | null>;
  volumes?: Array<{ type: string; source: string; target: string }>;
  tmpfs?: string[];
}

const file = join(ROOT, '.devcontainer', 'devcontainer.json');
const text = readFileSync(file, 'utf8');
// devcontainer.json is JSON with comments, as the spec allows and VS Code reads it.
const errors: ParseError[] = [];
const devcontainer = parseJsonc(text, errors, { allowTrailingComma: false }) as DevContainer;

const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
  composeDevContainerSchema,
);
const problems = (config: unknown): string[] =>
  validate(config)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);

// `docker compose config` merges the files as Compose itself does (paths, .env, overrides).
const composeMissing = ((): string | false => {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return false;
  const reason = 'docker compose (Compose v2) is not installed (bash scripts/install-tools.sh)';
  if (process.env['CI'] === 'true') throw new Error(`${reason}: CI must run this test`);
  process.stdout.write(`skipping: ${reason}\n`);
  return reason;
})();
function merged(): Record<string, Service> {
  const files = devcontainer.dockerComposeFile.flatMap((f) => [
    '-f',
    join(ROOT, '.devcontainer', f),
  ]);
  const out = spawnSync('docker', ['compose', ...files, 'config', '--format', 'json'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      CODESPACES: '',
      CODESPACE_NAME: '',
      GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN: '',
    },
  });
  assert.equal(out.status, 0, out.stderr);
  return (JSON.parse(out.stdout) as { services: Record<string, Service> }).services;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { scale?: number }>;
};
const dockerfile = readFileSync(join(ROOT, 'portal', 'Dockerfile'), 'utf8');

describe('.devcontainer/devcontainer.json', () => {
  it('is a Compose dev container as the Dev Container schema describes one', () => {
    assert.deepEqual(
      errors.map((e) => `${printParseErrorCode(e.error)} at ${e.offset}`),
      [],
    );
    assert.deepEqual(problems(devcontainer), []);
  });

  it('would be refused by that schema with a misspelt property, a bad port or a size without a unit', () => {
    const wrong: Array<Record<string, unknown>> = [
      { forwardPort: [8080] },
      { forwardPorts: ['grafana_3000:3000'] },
      { hostRequirements: { memory: '8 GB' } },
      { shutdownAction: 'stopContainer' },
      { portsAttributes: { '8080': { onAutoForward: 'open' } } },
    ];
    for (const change of wrong)
      assert.notDeepEqual(problems({ ...devcontainer, ...change }), [], JSON.stringify(change));
  });

  it('makes the workshop service the dev container and starts every service but the on-demand loadgen', () => {
    assert.equal(devcontainer.service, 'workshop');
    const onDemand = Object.entries(compose.services)
      .filter(([, spec]) => spec.scale === 0)
      .map(([name]) => name);
    assert.deepEqual(onDemand, ['loadgen']);
    assert.deepEqual(
      [...devcontainer.runServices].sort(),
      Object.keys(compose.services)
        .filter((name) => !onDemand.includes(name))
        .sort(),
    );
  });

  it("keeps the portal as the container's main process and forwards the port it listens on", () => {
    assert.equal(devcontainer.overrideCommand, false);
    assert.match(dockerfile, /^ENTRYPOINT \["node", "--import", "tsx", "portal\/main\.ts"\]$/m);
    assert.match(dockerfile, /^CMD \["serve", "--host", "0\.0\.0\.0", "--port", "8080"/m);
    assert.deepEqual(devcontainer.forwardPorts, [8080]);
    assert.equal(devcontainer.portsAttributes['8080']?.onAutoForward, 'openBrowser');
    assert.equal(devcontainer.portsAttributes['8080'].label, 'Workshop portal');
  });

  it(
    'mounts the checkout where the image keeps the repository, its node_modules left empty',
    { skip: composeMissing },
    () => {
      const workshop = merged()['workshop'];
      assert.match(dockerfile, new RegExp(`^WORKDIR ${devcontainer.workspaceFolder}$`, 'm'));
      const mount = workshop?.volumes?.find((v) => v.target === devcontainer.workspaceFolder);
      assert.equal(mount?.type, 'bind');
      assert.equal(realpathSync(mount.source), realpathSync(ROOT));
      assert.deepEqual(workshop?.tmpfs, [`${devcontainer.workspaceFolder}/node_modules`]);
      // The image's dependencies are above the repository, where Node finds them from it.
      assert.match(
        dockerfile,
        /^COPY --from=deps --chown=node:node \/deps\/node_modules \/home\/node\/node_modules$/m,
      );
    },
  );

  it(
    "serves Grafana on the portal's origin at the sub-path Grafana itself serves from",
    { skip: composeMissing },
    () => {
      const services = merged();
      const env = services['workshop']?.environment ?? {};
      const grafana = services['grafana']?.environment ?? {};
      assert.equal(env['GRAFANA_URL'], '/grafana');
      assert.equal(env['GRAFANA_UPSTREAM'], 'http://grafana:3000');
      assert.deepEqual(
        services['grafana']?.ports?.map((p) => p.target),
        [3000],
      );
      assert.equal(grafana['GF_SERVER_SERVE_FROM_SUB_PATH'], 'true');
      assert.match(grafana['GF_SERVER_ROOT_URL'] ?? '', /\/grafana\/$/);
      // The codespace's variables reach the portal, empty outside a codespace.
      for (const name of [
        'CODESPACES',
        'CODESPACE_NAME',
        'GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN',
      ])
        assert.equal(env[name], '', name);
    },
  );
});
