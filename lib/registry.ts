import cluster from 'node:cluster';
import { createRequire } from 'node:module';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { collectEventLoopDelay } from './event-loop-delay.js';

// Under --workers, each worker's number (1 to N, kept when a worker is replaced) labels its
// process metrics, so Process Info shows every worker's CPU and memory, not their sum.
export const WORKER_ENV = 'LAB_WORKER';
const worker = cluster.isWorker ? process.env[WORKER_ENV] : undefined;
const labels: Record<string, string> = worker === undefined ? {} : { worker };

// prom-client's default collectors, each a module named as in collectDefaultMetrics.metricsList
// (prom-client 15.1.3, pinned; test/lib/event-loop-delay.test.ts checks the names we expose against
// collectDefaultMetrics's own).
type Collector = (registry: Registry, config: { labels: Record<string, string> }) => void;
const load = createRequire(import.meta.url);
const collector = (name: string) => load(`prom-client/lib/metrics/${name}`) as Collector;

// The one registry /metrics serves. Every process exposes Node's own metrics (CPU, memory,
// event-loop delay, GC), even the uninstrumented hello-world-v1: Process Info needs them all.
// All are prom-client's but the event-loop delay (lib/event-loop-delay.ts says why), sampled
// once a second while the loop works, not every 10 ms, and once per 5 s scrape interval while it
// rests: each sample wakes the idle process, and the environment runs 19 of them. Measured on
// the host, an app at rest (past its first minute, unscraped) used 0.0020 of a core sampling
// every 100 ms and 0.0008 every 1 s (12 and 5 CPU ticks in 60 s); a bare `node` with a 1 s timer
// used 13 ticks in 240 s, about 0.0005 of a core for the timer alone. Under load the Process
// Info panel's p50 and p99 of the delay come from about 5 samples per scrape: enough to show a
// loop blocked by load.
const EVENT_LOOP_SAMPLE_MS = 1000;
const EVENT_LOOP_IDLE_SAMPLE_MS = 5000;
export const registry = new Registry();
for (const name of collectDefaultMetrics.metricsList)
  if (name !== 'eventLoopLag') collector(name)(registry, { labels });
collectEventLoopDelay({
  registry,
  labels,
  intervalMs: EVENT_LOOP_SAMPLE_MS,
  idleIntervalMs: EVENT_LOOP_IDLE_SAMPLE_MS,
});
