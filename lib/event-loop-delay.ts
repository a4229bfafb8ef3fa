// The event-loop delay as Process Info shows it: how late a timer runs, sampled once a second
// while the loop works and less often while it rests.
//
// prom-client's own collector reads Node's monitorEventLoopDelay, which records the time between
// its timer's ticks: the sampling interval plus the delay. At prom-client's 10 ms that reads
// 0.010 s on an idle process; at the 1 s this environment samples at (lib/registry.ts) it read
// 1.0 s, a loop that looked blocked for a second when it was idle. Its histogram also spans 1 ns
// to 2^63 ns: the mean and standard deviation walk all of its 56,000 counts, 4.8 M instructions
// a scrape, more than the request metrics of 100 label sets.
//
// Here a timer records how late it ran, into Node's own histogram (perf_hooks) over 1 µs to
// 100 s at 1 % precision: 2,816 counts. The metrics keep prom-client's names, help and
// aggregation across workers, and what each scrape reads: the samples since the scrape before.
// A sample sees a block only if it falls due during it; at rest it falls due less often, so a
// lone short block in an idle app is less likely to show (a load's blocks are sampled as before).
import { createHistogram, performance } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

const NS_PER_S = 1e9;
const LOWEST_NS = 1_000;
const HIGHEST_NS = 100 * NS_PER_S;

type Aggregator = 'average' | 'min' | 'max';
const GAUGES = [
  ['min', 'The minimum recorded event loop delay.', 'min'],
  ['max', 'The maximum recorded event loop delay.', 'max'],
  ['mean', 'The mean of the recorded event loop delays.', 'average'],
  ['stddev', 'The standard deviation of the recorded event loop delays.', 'average'],
  ['p50', 'The 50th percentile of the recorded event loop delays.', 'average'],
  ['p90', 'The 90th percentile of the recorded event loop delays.', 'average'],
  ['p99', 'The 99th percentile of the recorded event loop delays.', 'average'],
] as const satisfies readonly (readonly [string, string, Aggregator])[];
type Reading = (typeof GAUGES)[number][0];

export interface EventLoopDelayOptions {
  registry: Registry;
  // Labels on every line (the worker's number under --workers).
  labels?: Record<string, string>;
  // How often the timer samples the delay while the loop works.
  intervalMs: number;
  // How often while it rests: busy less than IDLE_UTILIZATION of the interval just sampled.
  // Each sample wakes the process; at rest the delay is nothing to see. By default intervalMs.
  idleIntervalMs?: number;
  // Called with each sample's delay in nanoseconds (the tests count them).
  onSample?: (delayNs: number) => void;
}

// Below this share of the last interval spent running, the loop is at rest (an app scraped every
// 5 s and sent no requests is busy about 0.1 % of the time).
export const IDLE_UTILIZATION = 0.01;

// Registers nodejs_eventloop_lag_seconds and its min, max, mean, stddev, p50, p90 and p99 in
// `registry`, and starts the sampling timer (unref'd: it never keeps a process alive). Returns a
// function that stops the timer.
export function collectEventLoopDelay({
  registry,
  labels = {},
  intervalMs,
  idleIntervalMs = intervalMs,
  onSample,
}: EventLoopDelayOptions): () => void {
  for (const interval of [intervalMs, idleIntervalMs])
    if (!(interval >= 1)) throw new Error(`event-loop delay: interval ${interval} ms`);
  const histogram = createHistogram({ lowest: LOWEST_NS, highest: HIGHEST_NS, figures: 2 });
  const labelNames = Object.keys(labels);
  const registers = [registry];

  // A timer that fires on time runs up to 1 ms early by the high-resolution clock (libuv keeps
  // whole milliseconds): an early or on-time run counts as the lowest delay.
  // The next interval is the working one unless the loop ran less than IDLE_UTILIZATION of the
  // last: then the idle one, until a sample finds the loop at work again (a load that starts
  // is sampled every intervalMs from the first sample after it).
  let expected = 0;
  let timer: NodeJS.Timeout | undefined;
  let used = performance.eventLoopUtilization();
  const sample = (): void => {
    const now = performance.now();
    if (expected > 0) {
      const late = Math.min(HIGHEST_NS, Math.max(LOWEST_NS, Math.round((now - expected) * 1e6)));
      histogram.record(late);
      onSample?.(late);
    }
    const current = performance.eventLoopUtilization();
    const since = performance.eventLoopUtilization(current, used);
    used = current;
    const next = expected > 0 && since.utilization < IDLE_UTILIZATION ? idleIntervalMs : intervalMs;
    expected = now + next;
    timer = setTimeout(sample, next).unref();
  };
  sample();

  const gauges = {} as Record<Reading, Gauge>;
  // How long an immediate waits at scrape time, set when it has run: the next scrape shows it
  // (as prom-client's collector does). Registered first: the registry reads its metrics in
  // order, and this one's collect() sets the others before they are read.
  const lag = new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    labelNames,
    registers,
    aggregator: 'average',
    collect() {
      const start = performance.now();
      setImmediate(() => {
        lag.set(labels, (performance.now() - start) / 1000);
      });
      // No sample since the last scrape (two scrapes within one interval): the last reading
      // stands, rather than an empty histogram's NaN and 2^63.
      if (histogram.count === 0) return;
      const read: Record<Reading, number> = {
        min: histogram.min,
        max: histogram.max,
        mean: histogram.mean,
        stddev: histogram.stddev,
        p50: histogram.percentile(50),
        p90: histogram.percentile(90),
        p99: histogram.percentile(99),
      };
      for (const [reading] of GAUGES) gauges[reading].set(labels, read[reading] / NS_PER_S);
      histogram.reset();
    },
  });

  for (const [reading, help, aggregator] of GAUGES)
    gauges[reading] = new Gauge({
      name: `nodejs_eventloop_lag_${reading}_seconds`,
      help,
      labelNames,
      registers,
      aggregator,
    });

  return () => {
    clearTimeout(timer);
  };
}
