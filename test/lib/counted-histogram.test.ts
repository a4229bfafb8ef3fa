import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { CountedHistogram } from '../../lib/counted-histogram.js';
import { BUCKETS } from '../../lib/http-metrics.js';
import { aggregated, useOpenMetrics } from '../helpers/registries.js';
import { prometheusSkip, prometheusTool, startPrometheus } from '../helpers/prometheus.js';

const NAME = 'http_request_duration_seconds';
const HELP = 'Time from the request reaching the app to the response being recorded.';
const LABELS = [
  { method: 'GET', route: '/', status_code: '200' },
  { method: 'GET', route: 'unmatched', status_code: '404' },
  { method: 'POST', route: '/', status_code: '499' },
];
// Label values the text format must escape (a double quote, a backslash, a line feed) or
// carry as UTF-8, alone and together.
const AWKWARD = [
  { method: 'GET', route: '/say "hi"', status_code: '200' },
  { method: 'GET', route: 'C:\\temp\\', status_code: '404' },
  { method: 'POST', route: 'line one\nline two', status_code: '499' },
  { method: 'PUT', route: 'Grüße/日本語/🙂', status_code: '500' },
  { method: 'PATCH', route: '\\"\n\\n"é', status_code: '201' },
];

// Observations that probe the edges: 0, each bucket bound exactly (le is "less or equal"),
// just above each, and beyond the last bound (only +Inf counts it).
function observations(): number[] {
  const values = [0, 1e-7, 1e9];
  for (const b of BUCKETS) values.push(b, b * 1.0001);
  for (let i = 0; i < 500; i++) values.push(Math.random() ** 4 * 3);
  return values;
}

// The same observations into prom-client's Histogram and into the counted one.
function both(values: number[], labels = LABELS): { theirs: Registry; ours: Registry } {
  const theirs = new Registry();
  const ours = new Registry();
  const histogram = new Histogram({
    name: NAME,
    help: HELP,
    labelNames: ['method', 'route', 'status_code'],
    buckets: BUCKETS,
    registers: [theirs],
  });
  const counted = new CountedHistogram(NAME, HELP, BUCKETS);
  counted.registerIn(ours);
  const children = labels.map((l) => [histogram.labels(l), counted.labels(l)] as const);
  for (const [i, v] of values.entries()) {
    const [a, b] = children[i % children.length] ?? [];
    a?.observe(v);
    b?.observe(v);
  }
  return { theirs, ours };
}

// A registry's /metrics on a port of its own, for Prometheus to scrape.
async function exposed(registry: Registry): Promise<{ server: Server; host: string }> {
  const server = createServer((_req, res) => {
    void registry.metrics().then((text) => {
      res.setHeader('content-type', registry.contentType);
      res.end(text);
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('the histogram counted in plain numbers', () => {
  it("writes the same text as prom-client's Histogram for the same observations", async () => {
    const { theirs, ours } = both(observations());
    const [a, b] = [await theirs.metrics(), await ours.metrics()];
    assert.ok(a.includes(`${NAME}_bucket{le="+Inf",method="GET",route="/",status_code="200"}`));
    assert.equal(b, a);
  });

  it('escapes label values as prom-client does: quotes, backslashes, line feeds, UTF-8', async () => {
    const { theirs, ours } = both(observations(), AWKWARD);
    const [a, b] = [await theirs.metrics(), await ours.metrics()];
    assert.ok(a.includes('route="line one\\nline two"'), a);
    assert.equal(b, a);
  });

  it('writes the same OpenMetrics text as prom-client when the registry is set to it', async () => {
    const { theirs, ours } = both(observations(), AWKWARD);
    useOpenMetrics(theirs, ours);
    const [a, b] = [await theirs.metrics(), await ours.metrics()];
    assert.ok(a.endsWith('# EOF\n'));
    assert.equal(b, a);
  });

  it(
    "is read by Prometheus as the same samples as prom-client's, every label value as it was given",
    { skip: prometheusSkip() },
    async () => {
      // Prometheus's own text parser, in the program that reads /metrics in production, rather
      // than a parser from the npm registry: what it makes of the text is what the dashboards
      // see. promtool (the same parser, and Prometheus's lint) first checks v7's text whole.
      const { theirs, ours } = both(observations(), AWKWARD);
      const lint = spawnSync(prometheusTool('promtool'), ['check', 'metrics'], {
        input: await ours.metrics(),
        encoding: 'utf8',
      });
      assert.equal(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);
      const targets = [await exposed(theirs), await exposed(ours)];
      // Two jobs of prometheus/prometheus.yml: v3's step uses prom-client's Histogram, v7's the
      // counted one; here each scrapes a registry of this test.
      const [theirJob, ourJob] = ['hello-world-v3-2', 'hello-world-v7-2'];
      const prometheus = await startPrometheus({
        [theirJob]: targets[0]?.host ?? '',
        [ourJob]: targets[1]?.host ?? '',
      });
      try {
        const at = await prometheus.scraped();
        // Every sample of the histogram as Prometheus's own text parser read it: its labels
        // but the target's, and its value.
        const samples = async (job: string) =>
          new Map(
            (await prometheus.query(`{job="${job}",__name__=~"${NAME}_.*"}`, at)).map((r) => {
              const sorted = Object.entries(r.metric)
                .filter(([label]) => label !== 'job' && label !== 'instance')
                .sort(([x], [y]) => (x < y ? -1 : 1));
              return [JSON.stringify(sorted), r.value];
            }),
          );
        const [a, b] = [await samples(theirJob), await samples(ourJob)];
        assert.equal(a.size, AWKWARD.length * (BUCKETS.length + 3));
        assert.deepEqual(b, a);
        const routes = new Set(
          [...b.keys()].map((k) => new Map(JSON.parse(k) as [string, string][]).get('route')),
        );
        assert.deepEqual(routes, new Set(AWKWARD.map((l) => l.route)));
      } finally {
        await prometheus.stop();
        for (const { server } of targets) server.close();
      }
    },
  );

  it('is summed across workers as prom-client sums its own', async () => {
    const runs = [both(observations()), both(observations())];
    assert.equal(
      await aggregated(runs.map((r) => r.ours)),
      await aggregated(runs.map((r) => r.theirs)),
    );
  });

  it('starts again from zero on reset, as the registry asks', async () => {
    const { theirs, ours } = both(observations());
    theirs.resetMetrics();
    ours.resetMetrics();
    assert.match(
      await ours.metrics(),
      new RegExp(`^${NAME}_count\\{method="GET",route="/",status_code="200"\\} 0$`, 'm'),
    );
    // prom-client drops its series on reset, where ours keeps them at zero: both say nothing was observed.
    assert.doesNotMatch(await theirs.metrics(), /_count\{.*\} [1-9]/);
    assert.doesNotMatch(await ours.metrics(), /_count\{.*\} [1-9]/);
  });

  it('binds one series per label set, however often its labels are asked for', async () => {
    const counted = new CountedHistogram(NAME, HELP, BUCKETS);
    const labels = { method: 'GET', route: '/', status_code: '200' };
    const first = counted.labels(labels);
    assert.equal(counted.labels({ status_code: '200', route: '/', method: 'GET' }), first);
    first.observe(0.001);
    counted.labels(labels).observe(0.001);
    const { values } = await counted.get();
    const counts = values.filter((v) => v.metricName === `${NAME}_count`);
    assert.deepEqual(
      counts.map((v) => v.value),
      [2],
    );
  });

  it('refuses a label name Prometheus would not take, and le, its own', () => {
    const counted = new CountedHistogram(NAME, HELP, BUCKETS);
    assert.throws(() => counted.labels({ le: '1' }), /"le" cannot be a label name/);
    assert.throws(() => counted.labels({ 'status-code': '1' }), /"status-code" cannot be/);
  });

  it('refuses buckets that do not increase', () => {
    assert.throws(() => new CountedHistogram('x', 'x', [0.1, 0.1]), /buckets must increase/);
  });
});
