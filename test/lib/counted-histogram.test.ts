import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { CountedHistogram } from '../../lib/counted-histogram.js';
import { BUCKETS } from '../../lib/http-metrics.js';

const NAME = 'http_request_duration_seconds';
const HELP = 'Time from the request reaching the app to the response being recorded.';
const LABELS = [
  { method: 'GET', route: '/', status_code: '200' },
  { method: 'GET', route: 'unmatched', status_code: '404' },
  { method: 'POST', route: '/', status_code: '499' },
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
function both(values: number[]): { theirs: Registry; ours: Registry } {
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
  const children = LABELS.map((l) => [histogram.labels(l), counted.labels(l)] as const);
  for (const [i, v] of values.entries()) {
    const [a, b] = children[i % children.length] ?? [];
    a?.observe(v);
    b?.observe(v);
  }
  return { theirs, ours };
}

describe('the histogram counted in plain numbers', () => {
  it("writes the same text as prom-client's Histogram for the same observations", async () => {
    const { theirs, ours } = both(observations());
    const [a, b] = [await theirs.metrics(), await ours.metrics()];
    assert.ok(a.includes(`${NAME}_bucket{le="+Inf",method="GET",route="/",status_code="200"}`));
    assert.equal(b, a);
  });

  it('is summed across workers as prom-client sums its own', async () => {
    const runs = [both(observations()), both(observations())];
    const aggregate = async (key: 'theirs' | 'ours') =>
      await AggregatorRegistry.aggregate(
        await Promise.all(runs.map((r) => r[key].getMetricsAsJSON())),
      ).metrics();
    assert.equal(await aggregate('ours'), await aggregate('theirs'));
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

  it('refuses buckets that do not increase', () => {
    assert.throws(() => new CountedHistogram('x', 'x', [0.1, 0.1]), /buckets must increase/);
  });
});
