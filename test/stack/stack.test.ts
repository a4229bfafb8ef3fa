// The dashboards against a real Prometheus that scrapes the real apps under real load:
// every panel's query returns data, and what the workshop pages say the learner will see
// is what those queries show.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import autocannon from 'autocannon';
import { startPrometheus, type Prometheus } from '../helpers/prometheus.js';
import { launch, type Launched } from '../helpers/servers.js';
import {
  expand,
  needTool,
  panelQueries,
  readDashboard,
  startProcessExporter,
} from '../helpers/stack.js';

const SERVICES: Record<string, string> = {
  'hello-world-v1': 'hello-world-v1',
  'hello-world-v2-2': 'hello-world-v2/app-2',
  'hello-world-v3-1': 'hello-world-v3/app-1',
  'hello-world-v3-2': 'hello-world-v3/app-2',
};
const ROUNDS = 6;
const PER_ROUND = 5000;
const INSTRUMENTED = ['hello-world-v2-2', 'hello-world-v3-1', 'hello-world-v3-2'];
// As Grafana computes them for a panel over the last 15 minutes, scraped every second here.
const INTERVAL = { scrape: 1, interval: 1 };

const skip =
  needTool('prometheus', 'apt-get install prometheus') ||
  needTool('prometheus-process-exporter', 'apt-get install prometheus-process-exporter');

async function sequential(url: string, seconds: number): Promise<number> {
  let n = 0;
  for (const end = Date.now() + seconds * 1000; Date.now() < end; n++)
    await (await fetch(url)).text();
  return n;
}

describe('the dashboards on a real Prometheus', { skip }, () => {
  let servers: Record<string, Launched>;
  let exporter: Awaited<ReturnType<typeof startProcessExporter>>;
  let prometheus: Prometheus;
  let loadWindow = 0;
  const cpuPerRequest: Record<string, number> = {};
  const query = async (
    expr: string,
    vars: Record<string, string>,
    at: number,
    interval = INTERVAL,
  ) => prometheus.query(expand(expr, vars, interval), at);
  const one = async (
    expr: string,
    vars: Record<string, string>,
    at: number,
    interval = INTERVAL,
  ): Promise<number> => {
    const rows = await query(expr, vars, at, interval);
    assert.equal(rows.length, 1, `${expand(expr, vars, interval)}: ${JSON.stringify(rows)}`);
    return rows[0]?.value ?? NaN;
  };

  before(async () => {
    const names = Object.keys(SERVICES);
    const launched = await Promise.all(names.map((name) => launch([SERVICES[name] ?? ''])));
    servers = Object.fromEntries(names.map((name, i) => [name, launched[i] as Launched]));
    exporter = await startProcessExporter();
    prometheus = await startPrometheus({
      ...Object.fromEntries(names.map((n) => [n, servers[n]?.url ?? ''])),
      'process-exporter': exporter.hostPort,
    });

    // The streamed variants, one request at a time, as `bombardier -c 1` would send them.
    await Promise.all(
      ['hello-world-v2-2', 'hello-world-v3-1'].map((n) =>
        sequential(`${servers[n]?.url ?? ''}/`, 6),
      ),
    );

    // v1 and v3-2 under the same saturating load, in turns, so that the machine's other work
    // falls on both alike: a difference of a few percent per request must not drown in it.
    const pair = ['hello-world-v1', 'hello-world-v3-2'];
    const run = async (name: string, amount: number): Promise<void> => {
      const result = await autocannon({
        url: `${servers[name]?.url ?? ''}/`,
        amount,
        connections: 8,
      });
      assert.equal(result['2xx'], amount, `${name} answered every request`);
    };
    for (const n of pair) await run(n, 5000); // warm-up: compile the request path first
    const t0 = await prometheus.scraped();
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of round % 2 === 0 ? pair : [...pair].reverse()) await run(n, PER_ROUND);
    }
    const t1 = await prometheus.scraped();
    loadWindow = Math.ceil(t1 - t0);
    // The Process Info CPU panel's query, its window stretched over all the rounds.
    const rows = await query(panelQueries('process-info')[0]?.expr ?? '', {}, t1, {
      scrape: 1,
      interval: loadWindow,
    });
    for (const n of pair) {
      const cpuRate = rows.find((r) => r.metric['job'] === n)?.value ?? NaN;
      cpuPerRequest[n] = (cpuRate * (loadWindow + 1)) / (ROUNDS * PER_ROUND);
    }
  });

  after(async () => {
    await prometheus.stop();
    await exporter.stop();
    await Promise.all(Object.values(servers).map((s) => s.close()));
  });

  it('lists every app service in the variant selector', async () => {
    const selector = readDashboard('raw-requests').templating.list.find(
      (v) => v.name === 'variant',
    );
    const definition =
      typeof selector?.query === 'string' ? selector.query : (selector?.query.query ?? '');
    const match = /^label_values\((.*), job\)$/.exec(definition);
    assert.ok(match, definition);
    const rows = await prometheus.query(`count by (job) (${match[1] ?? ''})`);
    assert.deepEqual(rows.map((r) => r.metric['job']).sort(), Object.keys(SERVICES).sort());
  });

  it('every Raw Requests query returns data for every instrumented variant', async () => {
    const at = await prometheus.scraped();
    for (const variant of INSTRUMENTED) {
      for (const q of panelQueries('raw-requests')) {
        const rows = await query(q.expr, { variant }, at, { scrape: 1, interval: 30 });
        assert.ok(
          rows.length > 0,
          `${q.panel} ${q.refId} for ${variant}: ${expand(q.expr, { variant }, INTERVAL)}`,
        );
      }
    }
  });

  it('every Process Info query returns data for every variant', async () => {
    const at = await prometheus.scraped();
    for (const variant of Object.keys(SERVICES)) {
      for (const q of panelQueries('process-info')) {
        const rows = await query(q.expr, { variant }, at, { scrape: 1, interval: 30 });
        assert.ok(
          rows.length > 0,
          `${q.panel} ${q.refId} for ${variant}: ${expand(q.expr, { variant }, INTERVAL)}`,
        );
      }
    }
  });

  it('Process Info shows each app, Prometheus and the exporter among the processes', async () => {
    const at = await prometheus.scraped();
    const rows = await query(panelQueries('process-info')[1]?.expr ?? '', {}, at, {
      scrape: 1,
      interval: 30,
    });
    const groups = rows.map((r) => r.metric['groupname']);
    for (const group of [...Object.values(SERVICES), 'prometheus', 'process-exporter'])
      assert.ok(groups.includes(group), `${group} in ${groups.join(', ')}`);
  });

  it('CPU per request reads CPU by app service over Raw Requests throughput; none for v1', async () => {
    const at = await prometheus.scraped();
    const window = { scrape: 1, interval: 30 };
    const expr = (uid: string, panel: string): string =>
      panelQueries(uid).find((q) => q.panel === panel)?.expr ?? '';
    const perRequest = await query(
      expr('process-info', 'CPU per request by app service'),
      {},
      at,
      window,
    );
    assert.equal(
      perRequest.find((r) => r.metric['job'] === 'hello-world-v1'),
      undefined,
    );
    const variant = 'hello-world-v3-2';
    const cpu = (await query(expr('process-info', 'CPU by app service'), {}, at, window)).find(
      (r) => r.metric['job'] === variant,
    )?.value;
    const throughput = await one(expr('raw-requests', 'Throughput'), { variant }, at, window);
    const value = perRequest.find((r) => r.metric['job'] === variant)?.value ?? NaN;
    assert.ok(Math.abs(value - (cpu ?? NaN) / throughput) <= value * 1e-9, `${value} s`);
  });

  it('v2-2: the Raw Requests p50 is under 5 ms though each request takes 50 ms', async () => {
    const p50 = panelQueries('raw-requests').find(
      (q) => q.refId === 'B' && q.panel === 'Response time',
    );
    const value = await one(
      p50?.expr ?? '',
      { variant: 'hello-world-v2-2' },
      await prometheus.scraped(),
      { scrape: 1, interval: 30 },
    );
    assert.ok(value < 0.005, `p50 ${value} s`);
  });

  it('v3-1: the Raw Requests p50 is between 45 and 80 ms', async () => {
    const p50 = panelQueries('raw-requests').find(
      (q) => q.refId === 'B' && q.panel === 'Response time',
    );
    const value = await one(
      p50?.expr ?? '',
      { variant: 'hello-world-v3-1' },
      await prometheus.scraped(),
      { scrape: 1, interval: 30 },
    );
    assert.ok(value >= 0.045 && value <= 0.08, `p50 ${value} s`);
  });

  it('v3-2 uses more CPU per request than v1 under the same load', () => {
    const [v1, v3] = [
      cpuPerRequest['hello-world-v1'] ?? NaN,
      cpuPerRequest['hello-world-v3-2'] ?? NaN,
    ];
    process.stdout.write(
      `CPU per request over ${loadWindow} s: v1 ${(v1 * 1e6).toFixed(1)} µs, v3-2 ${(v3 * 1e6).toFixed(1)} µs\n`,
    );
    assert.ok(v1 > 0 && v3 > v1, `v1 ${v1}, v3-2 ${v3}`);
  });
});
