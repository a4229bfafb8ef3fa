// A real Prometheus scraping launched servers every second, and PromQL against it: what a
// dashboard panel would show, read by a test. Prometheus 3.5, the pinned image's line, from
// .tmp/tools/bin (scripts/install-tools.sh) where it is there; else the one on PATH.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, track } from '../../harness/servers.js';
import { deriveConfig, freePort, needTool } from './stack.js';

// prometheus or promtool: the installed 3.5 build if there is one, else the one on PATH.
export function prometheusTool(name: 'prometheus' | 'promtool'): string {
  const installed = join(ROOT, '.tmp/tools/bin', name);
  return existsSync(installed) ? installed : name;
}

// A suite's skip when it needs a Prometheus (the installed 3.5, else one on PATH): the reason
// it is missing (under CI=true, a failure).
export function prometheusSkip(): string | false {
  return (
    prometheusTool('prometheus') === 'prometheus' &&
    needTool('prometheus', 'bash scripts/install-tools.sh, or apt-get install prometheus')
  );
}

// The stack suites' skip: a Prometheus and the process exporter.
export function stackSkip(): string | false {
  return (
    prometheusSkip() ||
    needTool('prometheus-process-exporter', 'apt-get install prometheus-process-exporter')
  );
}

let said = false;
function sayVersion(bin: string): void {
  if (said) return;
  said = true;
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0];
  process.stdout.write(`prometheus: ${version} (${bin})\n`);
}

export interface Prometheus {
  // Its address, http://127.0.0.1:PORT, as the checks take it in PROMETHEUS_URL.
  url: string;
  // One instant query, evaluated at `at` (Unix seconds; default now): label sets and values.
  query(promql: string, at?: number): Promise<{ metric: Record<string, string>; value: number }[]>;
  // Waits until every target has been scraped at least once after this call.
  scraped(): Promise<number>;
  stop(): Promise<void>;
}

// jobs: job name (the compose service) to the base URL of a launched server, or host:port.
export async function startPrometheus(jobs: Record<string, string>): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  // The repository's prometheus/prometheus.yml, pointed at the servers running here.
  const targets = Object.fromEntries(
    Object.entries(jobs).map(([job, url]) => [job, URL.canParse(url) ? new URL(url).host : url]),
  );
  writeFileSync(join(dir, 'prometheus.yml'), deriveConfig(targets));
  const port = await freePort();
  const bin = prometheusTool('prometheus');
  sayVersion(bin);
  const child = track(
    spawn(
      bin,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    ),
  );
  const exited = once(child, 'exit');
  const base = `http://127.0.0.1:${port}`;

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(`${base}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data;
  }
  interface Target {
    scrapePool: string;
    lastScrape: string;
    lastError: string;
    health: string;
  }
  const activeTargets = async () =>
    (await api<{ activeTargets: Target[] }>('/api/v1/targets')).activeTargets;
  async function lastScrapes(): Promise<number[]> {
    return (await activeTargets()).map((t) => (t.health === 'up' ? Date.parse(t.lastScrape) : 0));
  }

  let failed: Error | undefined;
  child.once('error', (err) => (failed = err));
  for (let i = 0; ; i++) {
    if (failed !== undefined || child.exitCode !== null)
      throw new Error(`prometheus did not start: ${failed?.message ?? `exit ${child.exitCode}`}`);
    try {
      if ((await lastScrapes()).length === Object.keys(jobs).length) break;
    } catch (err) {
      if (i > 100) throw err;
    }
    await sleep(100);
  }
  return {
    url: base,
    async query(promql, at = Date.now() / 1000) {
      const data = await api<{
        result: { metric: Record<string, string>; value: [number, string] }[];
      }>(`/api/v1/query?query=${encodeURIComponent(promql)}&time=${at}`);
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async scraped() {
      const since = Date.now();
      // A target that stays down (a scrape Prometheus could not parse) fails here, with
      // Prometheus's reason, and does not wait out the test's time limit.
      for (let i = 0; !(await lastScrapes()).every((t) => t > since); i++) {
        if (i === 300) {
          const down = (await activeTargets()).filter((t) => t.health !== 'up');
          throw new Error(
            `not every target scraped in 60 s: ${down.map((t) => `${t.scrapePool}: ${t.health} (${t.lastError})`).join('; ')}`,
          );
        }
        await sleep(200);
      }
      return Date.now() / 1000;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
