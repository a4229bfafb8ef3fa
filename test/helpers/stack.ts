// The environment of docker-compose.yml, natively: the real Prometheus configuration,
// the real process exporter, and the dashboards' own queries, as Grafana would send them.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { ROOT, track } from '../../harness/servers.js';

// A tool the test needs: on a user's machine its absence skips the test with the reason;
// under CI=true it fails it, for CI must run everything.
export function needTool(command: string, install: string): string | false {
  const found = spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
  if (found) return false;
  const reason = `${command} is not installed (${install})`;
  if (process.env['CI'] === 'true') throw new Error(`${reason}: CI must run this test`);
  process.stdout.write(`skipping: ${reason}\n`);
  return reason;
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[] }[];
}

// prometheus/prometheus.yml with each job's targets replaced by where that service runs
// here (host:port), the jobs with no such service left out, and a shorter scrape interval.
export function deriveConfig(targets: Record<string, string>, scrapeInterval = '1s'): string {
  const config = parse(readFileSync(join(ROOT, 'prometheus/prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    scrape_configs: ScrapeConfig[];
  };
  const jobs = new Set(config.scrape_configs.map((c) => c.job_name));
  for (const job of Object.keys(targets)) {
    if (!jobs.has(job)) throw new Error(`prometheus/prometheus.yml has no job "${job}"`);
  }
  config.global['scrape_interval'] = scrapeInterval;
  config.global['evaluation_interval'] = scrapeInterval;
  config.scrape_configs = config.scrape_configs
    .filter((c) => targets[c.job_name] !== undefined)
    .map((c) => ({ ...c, static_configs: [{ targets: [targets[c.job_name] ?? ''] }] }));
  return stringify(config);
}

// The process exporter with the repository's own grouping, on this machine's /proc.
export async function startProcessExporter(): Promise<{ hostPort: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = track(
    spawn(
      'prometheus-process-exporter',
      [
        '-config.path',
        join(ROOT, 'prometheus/process-exporter.yml'),
        '-web.listen-address',
        `127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    ),
  );
  const exited = once(child, 'exit');
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/metrics`)).ok) break;
    } catch (err) {
      if (i > 100) throw err;
    }
    await sleep(100);
  }
  return {
    hostPort: `127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

interface DashboardJson {
  uid: string;
  panels: { title: string; targets?: { expr: string; refId: string }[] }[];
  templating: { list: { name: string; query: { query: string } | string }[] };
}

export function readDashboard(uid: string): DashboardJson {
  return JSON.parse(
    readFileSync(join(ROOT, 'grafana/dashboards', `${uid}.json`), 'utf8'),
  ) as DashboardJson;
}

export function panelQueries(uid: string): PanelQuery[] {
  return readDashboard(uid).panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      dashboard: uid,
      panel: p.title,
      refId: t.refId,
      expr: t.expr,
    })),
  );
}

// Grafana's expansion: $__rate_interval is max($__interval + scrape interval, 4 × scrape
// interval); template variables are replaced by their value.
export function expand(
  expr: string,
  vars: Record<string, string>,
  interval: { scrape: number; interval: number },
): string {
  const rateInterval = Math.max(interval.interval + interval.scrape, 4 * interval.scrape);
  let out = expr
    .replaceAll('$__rate_interval', `${rateInterval}s`)
    .replaceAll('$__interval', `${interval.interval}s`);
  for (const [name, value] of Object.entries(vars))
    out = out.replaceAll(`\${${name}}`, value).replaceAll(`$${name}`, value);
  // $1 is label_replace's capture group, which Grafana leaves alone (no variable is named 1).
  if (/\$(?!\d)/.test(out)) throw new Error(`unexpanded variable in ${out}`);
  return out;
}
