import assert from 'node:assert/strict';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { collectEventLoopDelay } from '../../lib/event-loop-delay.js';
import { registry } from '../../lib/registry.js';

// The value of a metric's one line (or the one with these labels) in a registry's text.
async function read(from: Registry, name: string): Promise<number> {
  const text = await from.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  assert.ok(line !== undefined, `${name} in /metrics`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

// Holds the event loop for `ms`, as a slow synchronous handler does.
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const names = (r: Registry) =>
  r
    .getMetricsAsArray()
    .map((m) => m.name)
    .sort();

describe('the event-loop delay', () => {
  it('reads near zero on an idle loop, not the sampling interval as monitorEventLoopDelay does', async () => {
    // Node's own monitor, at the interval lib/registry.ts samples at: each sample is the
    // interval plus the delay.
    const theirs = monitorEventLoopDelay({ resolution: 200 });
    theirs.enable();
    const ours = new Registry();
    const stop = collectEventLoopDelay({ registry: ours, intervalMs: 200 });
    try {
      await sleep(1300);
      theirs.disable();
      // (Less a millisecond or so: libuv keeps its timers in whole milliseconds.)
      assert.ok(theirs.min / 1e9 >= 0.19, `monitorEventLoopDelay's min ${theirs.min / 1e9} s`);
      const p50 = await read(ours, 'nodejs_eventloop_lag_p50_seconds');
      // Half the interval: an idle loop's timer is late by a millisecond or so; only a machine
      // that stalled the process for 100 ms at most of five samples could read more.
      assert.ok(p50 < 0.1, `p50 ${p50} s, idle`);
    } finally {
      stop();
    }
  });

  it('shows a blocked loop: a 400 ms block reads as the max and stays out of the next scrape', async () => {
    const ours = new Registry();
    const stop = collectEventLoopDelay({ registry: ours, intervalMs: 50 });
    try {
      await sleep(120);
      await ours.metrics();
      block(400);
      await sleep(120);
      const max = await read(ours, 'nodejs_eventloop_lag_max_seconds');
      // The timer due during the block ran when it ended: late by up to 400 ms, at least
      // 400 ms less the 50 ms interval.
      assert.ok(max >= 0.35 && max < 5, `max ${max} s after a 400 ms block`);
      for (const reading of ['min', 'mean', 'p50', 'p90', 'p99', 'stddev']) {
        const value = await read(ours, `nodejs_eventloop_lag_${reading}_seconds`);
        assert.ok(Number.isFinite(value) && value >= 0 && value <= max, `${reading} ${value}`);
      }
      // The scrape read and reset the samples: the next interval's own samples follow.
      await sleep(300);
      const after = await read(ours, 'nodejs_eventloop_lag_max_seconds');
      assert.ok(after < max, `max ${after} s in the scrape after, against ${max} s`);
    } finally {
      stop();
    }
  });

  it('keeps the last reading when a scrape comes before the next sample', async () => {
    const ours = new Registry();
    const stop = collectEventLoopDelay({ registry: ours, intervalMs: 100 });
    try {
      await sleep(350);
      const first = await read(ours, 'nodejs_eventloop_lag_max_seconds');
      const second = await read(ours, 'nodejs_eventloop_lag_max_seconds');
      assert.ok(Number.isFinite(first) && first < 1e3, `max ${first}`);
      assert.equal(second, first);
    } finally {
      stop();
    }
  });

  it('samples at the idle interval while the loop rests, and at the working one while it works', async () => {
    let samples = 0;
    const stop = collectEventLoopDelay({
      registry: new Registry(),
      intervalMs: 50,
      idleIntervalMs: 500,
      onSample: () => {
        samples++;
      },
    });
    try {
      // At rest for 1.6 s: the first sample after 50 ms, then one every 500 ms; 32 at 50 ms. (A
      // sample whose interval was busy 1 % of the time, 0.5 ms of 50 ms on a loaded machine, is
      // followed by another 50 ms later: hence the margin.)
      await sleep(1600);
      const resting = samples;
      assert.ok(resting >= 2 && resting <= 12, `${resting} samples in 1.6 s at rest`);
      // At work: 40 ms of every 50 ms for 1.6 s. The next sample (within 500 ms) finds the loop
      // busy and the sampling goes back to every 50 ms: up to 22 in the 1.1 s after it, fewer
      // as the blocks hold the timer back; at rest it would be 4.
      const work = setInterval(() => {
        block(40);
      }, 50);
      try {
        await sleep(1600);
      } finally {
        clearInterval(work);
      }
      const working = samples - resting;
      assert.ok(working >= 10, `${working} samples in 1.6 s at work`);
    } finally {
      stop();
    }
  });

  it('rejects an interval below 1 ms', () => {
    assert.throws(
      () => collectEventLoopDelay({ registry: new Registry(), intervalMs: 0 }),
      /interval 0 ms/,
    );
    assert.throws(
      () => collectEventLoopDelay({ registry: new Registry(), intervalMs: 10, idleIntervalMs: 0 }),
      /interval 0 ms/,
    );
  });
});

describe("the apps' registry", () => {
  it("exposes every metric prom-client's defaults do, by the same names and types", () => {
    const theirs = new Registry();
    collectDefaultMetrics({ register: theirs });
    assert.deepEqual(
      names(registry).filter((n) => !n.startsWith('http_')),
      names(theirs),
    );
    const types = (r: Registry) =>
      Object.fromEntries(
        r.getMetricsAsArray().map((m) => [m.name, (m as { type?: unknown }).type]),
      );
    const ours = types(registry);
    for (const [name, type] of Object.entries(types(theirs))) assert.equal(ours[name], type, name);
  });
});
