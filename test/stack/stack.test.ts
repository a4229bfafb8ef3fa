// The dashboards against a real Prometheus that scrapes the real apps under real load: every
// panel's query returns data. (What the pages say the panels read is quoted from a real run:
// workshop/figures/dashboards.md, written by `npm run figures`.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import autocannon from 'autocannon';
import { stackSkip, startPrometheus, type Prometheus } from '../helpers/prometheus.js';
import { launch, type Running } from '../../harness/servers.js';
import { expand, panelQueries, readDashboard, startProcessExporter } from '../helpers/stack.js';

const SERVICES: Record<string, string> = {
  'hello-world-v1': 'hello-world-v1',
  'hello-world-v2-2': 'hello-world-v2/app-2',
  'hello-world-v3-1': 'hello-world-v3/app-1',
  'hello-world-v3-2': 'hello-world-v3/app-2',
};
const INSTRUMENTED = ['hello-world-v2-2', 'hello-world-v3-1', 'hello-world-v3-2'];
// As Grafana computes them for a panel over the last 15 minutes, scraped every second here.
const INTERVAL = { scrape: 1, interval: 1 };

const skip = stackSkip();

async function sequential(url: string, seconds: number): Promise<number> {
  let n = 0;
  for (const end = Date.now() + seconds * 1000; Date.now() < end; n++)
    await (await fetch(url)).text();
  return n;
}

describe('the dashboards on a real Prometheus', { skip }, () => {
  let servers: Record<string, Running>;
  let exporter: Awaited<ReturnType<typeof startProcessExporter>>;
  let prometheus: Prometheus;
  const query = async (
    expr: string,
    vars: Record<string, string>,
    at: number,
    interval = INTERVAL,
  ) => prometheus.query(expand(expr, vars, interval), at);
  const one = async (expr: string, vars: Record<string, string>, at: number): Promise<number> => {
    const rows = await query(expr, vars, at);
    assert.equal(rows.length, 1, `${expand(expr, vars, INTERVAL)}: ${JSON.stringify(rows)}`);
    return rows[0]?.value ?? NaN;
  };
  before(async () => {
    const names = Object.keys(SERVICES);
    const launched = await Promise.all(names.map((name) => launch([SERVICES[name] ?? ''])));
    servers = Object.fromEntries(names.map((name, i) => [name, launched[i] as Running]));
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

    // The plain variants under load, so that every panel has a rate to show: their series
    // exist and are scraped first, and the load spans several scrapes (5,000 requests sent
    // at once can fall between two scrapes, and a series born at 5,000 has no rate).
    for (const n of ['hello-world-v1', 'hello-world-v3-2'])
      await (await fetch(`${servers[n]?.url ?? ''}/`)).text();
    await prometheus.scraped();
    for (const n of ['hello-world-v1', 'hello-world-v3-2']) {
      const result = await autocannon({
        url: `${servers[n]?.url ?? ''}/`,
        amount: 5000,
        overallRate: 2000,
      });
      assert.equal(result['2xx'], 5000, `${n} answered every request`);
    }
  });

  after(async () => {
    await prometheus.stop();
    await exporter.stop();
    await Promise.all(Object.values(servers).map((s) => s.stop()));
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

  it("Process Info's event-loop delay reads each app's delay, not its 1 s sampling interval", async () => {
    // prom-client's collector, sampling once a second, read 1.0 s and more on every app at
    // rest: the time between its timer's ticks. The delay itself stays far under half a second
    // unless a handler holds the loop that long, and none here does.
    const at = await prometheus.scraped();
    const delay = panelQueries('process-info').filter((q) => q.panel.startsWith('Event-loop'));
    assert.equal(delay.length, 2, 'p50 and p99');
    for (const variant of Object.keys(SERVICES))
      for (const q of delay) {
        const rows = await query(q.expr, { variant }, at, { scrape: 1, interval: 30 });
        assert.ok(rows.length > 0, `${q.refId} of ${variant}: no data`);
        for (const { value } of rows)
          assert.ok(value >= 0 && value < 0.5, `${q.refId} of ${variant}: ${value} s`);
      }
  });

  it('the Raw Requests heatmap counts every request in exactly one column', async () => {
    const heatmap = panelQueries('raw-requests').find(
      (q) => q.panel === 'Response time distribution',
    );
    const at = await prometheus.scraped();
    const step = 5; // a column, as Grafana steps it at the datasource's 5 s minimum
    let cells = 0;
    for (let t = at; t > at - 600; t -= step) {
      const rows = await query(heatmap?.expr ?? '', { variant: 'hello-world-v3-1' }, t, {
        scrape: 1,
        interval: step,
      });
      cells += rows.find((r) => r.metric['le'] === '+Inf')?.value ?? 0;
    }
    const total = await one(
      'sum(http_request_duration_seconds_count{job="$variant"})',
      { variant: 'hello-world-v3-1' },
      at,
    );
    assert.ok(total > 0);
    assert.equal(cells, total);
  });

  it('every legend names its series on real data, a single-process service included', async () => {
    const at = await prometheus.scraped();
    for (const uid of ['raw-requests', 'process-info']) {
      for (const panel of readDashboard(uid).panels) {
        for (const t of panel.targets ?? []) {
          const format = (t as { legendFormat?: string }).legendFormat ?? '';
          const rows = await query(t.expr, { variant: 'hello-world-v3-2' }, at, {
            scrape: 1,
            interval: 30,
          });
          for (const { metric } of rows) {
            const legend = format.replace(
              /\{\{\s*(\w+)\s*\}\}/g,
              (_m, l: string) => metric[l] ?? '',
            );
            assert.ok(legend !== '' && legend.trim() === legend, `${panel.title}: "${legend}"`);
          }
        }
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
    const [throughput] = await query(expr('raw-requests', 'Throughput'), { variant }, at, window);
    const value = perRequest.find((r) => r.metric['job'] === variant)?.value ?? NaN;
    assert.ok(
      Math.abs(value - (cpu ?? NaN) / (throughput?.value ?? NaN)) <= value * 1e-9,
      `${value} s`,
    );
  });
});
