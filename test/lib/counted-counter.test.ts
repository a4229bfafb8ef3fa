import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { CountedCounter } from '../../lib/counted-counter.js';
import { aggregated, useOpenMetrics } from '../helpers/registries.js';
import { prometheusSkip, prometheusTool } from '../helpers/prometheus.js';

const NAME = 'http_requests_total';
const HELP = 'Requests recorded, by outcome.';
// Label values the text format must escape or carry as UTF-8, beside plain ones.
const LABELS = [
  { method: 'GET', route: '/', status_code: '200' },
  { method: 'GET', route: 'unmatched', status_code: '404' },
  { method: 'GET', route: '/say "hi"', status_code: '200' },
  { method: 'GET', route: 'C:\\temp\\', status_code: '404' },
  { method: 'POST', route: 'line one\nline two', status_code: '499' },
  { method: 'PUT', route: 'Grüße/日本語/🙂', status_code: '500' },
  { method: 'PATCH', route: '\\"\n\\n"é', status_code: '201' },
];

// The same counts in prom-client's Counter and in the counted one: label set i counted i + 1
// times, one at a time.
function both(labels = LABELS): { theirs: Registry; ours: Registry } {
  const theirs = new Registry();
  const ours = new Registry();
  const counter = new Counter({
    name: NAME,
    help: HELP,
    labelNames: ['method', 'route', 'status_code'],
    registers: [theirs],
  });
  const counted = new CountedCounter(NAME, HELP);
  counted.registerIn(ours);
  for (const [i, l] of labels.entries()) {
    const count = counted.labels(l);
    for (let n = 0; n <= i; n++) {
      counter.inc(l);
      count.count++;
    }
  }
  return { theirs, ours };
}

describe('the counter counted in plain numbers', () => {
  it("writes the same text as prom-client's Counter, label values escaped as it escapes them", async () => {
    const { theirs, ours } = both();
    const [a, b] = [await theirs.metrics(), await ours.metrics()];
    assert.ok(a.includes(`${NAME}{method="POST",route="line one\\nline two",status_code="499"} 5`));
    assert.equal(b, a);
  });

  it('writes the same OpenMetrics text as prom-client when the registry is set to it', async () => {
    const { theirs, ours } = both();
    useOpenMetrics(theirs, ours);
    const [a, b] = [await theirs.metrics(), await ours.metrics()];
    assert.ok(a.endsWith('# EOF\n'));
    assert.equal(b, a);
  });

  it('writes a label set first seen after an OpenMetrics scrape with the full name, as prom-client does', async () => {
    const [theirs, ours] = [new Registry(), new Registry()];
    const labelNames = ['method', 'route', 'status_code'];
    const counter = new Counter({ name: NAME, help: HELP, labelNames, registers: [theirs] });
    const counted = new CountedCounter(NAME, HELP);
    counted.registerIn(ours);
    const first = { method: 'GET', route: '/', status_code: '200' };
    // Two, so that one is not the last line (which the registry names itself).
    const later = [
      { method: 'DELETE', route: '/', status_code: '204' },
      { method: 'PUT', route: '/', status_code: '201' },
    ];
    counter.inc(first);
    counted.labels(first).count++;
    useOpenMetrics(theirs, ours);
    assert.equal(await ours.metrics(), await theirs.metrics());
    for (const labels of later) {
      counter.inc(labels);
      counted.labels(labels).count++;
    }
    const [a, b] = [await theirs.metrics(), await ours.metrics()];
    assert.ok(a.includes('http_requests_total{method="DELETE",route="/",status_code="204"} 1'), a);
    assert.equal(b, a);
  });

  it(
    'writes text Prometheus reads: promtool check metrics passes it',
    { skip: prometheusSkip() },
    async () => {
      const { ours } = both();
      const lint = spawnSync(prometheusTool('promtool'), ['check', 'metrics'], {
        input: await ours.metrics(),
        encoding: 'utf8',
      });
      assert.equal(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);
    },
  );

  it('writes one line for one label set, and nothing but its help and type for none', async () => {
    const one = new Registry();
    const counted = new CountedCounter(NAME, HELP);
    counted.registerIn(one);
    assert.equal(await one.metrics(), `# HELP ${NAME} ${HELP}\n# TYPE ${NAME} counter\n`);
    counted.labels({}).count += 3;
    assert.equal(
      await one.metrics(),
      `# HELP ${NAME} ${HELP}\n# TYPE ${NAME} counter\n${NAME} 3\n`,
    );
  });

  it('is summed across workers as prom-client sums its own', async () => {
    const runs = [both(), both()];
    assert.equal(
      await aggregated(runs.map((r) => r.ours)),
      await aggregated(runs.map((r) => r.theirs)),
    );
  });

  it('binds one count per label set, and starts again from zero on reset', async () => {
    const counted = new CountedCounter(NAME, HELP);
    const first = counted.labels({ method: 'GET', route: '/', status_code: '200' });
    assert.equal(counted.labels({ status_code: '200', route: '/', method: 'GET' }), first);
    first.count += 2;
    const registry = new Registry();
    counted.registerIn(registry);
    registry.resetMetrics();
    assert.match(await registry.metrics(), /^http_requests_total\{.*\} 0$/m);
    assert.throws(() => counted.labels({ 'status-code': '1' }), /"status-code" cannot be/);
  });
});
