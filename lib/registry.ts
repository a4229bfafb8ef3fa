import cluster from 'node:cluster';
import { Registry, collectDefaultMetrics } from 'prom-client';

// Under --workers, each worker's number (1 to N, kept when a worker is replaced) labels its
// process metrics, so Process Info shows every worker's CPU and memory, not their sum.
export const WORKER_ENV = 'LAB_WORKER';
const worker = cluster.isWorker ? process.env[WORKER_ENV] : undefined;

// The one registry /metrics serves. Every process exposes Node's own metrics (CPU, memory,
// event-loop delay, GC), even the uninstrumented hello-world-v1: Process Info needs them all.
// The event-loop delay is sampled once a second, not every 10 ms (prom-client's default):
// each sample wakes the idle process, and the environment runs 16 of them. The 10 ms timer
// alone cost 0.0034 of a core per idle process; measured on the host, an app at rest (past
// its first minute, unscraped) used 0.0020 of a core at 100 ms and 0.0008 at 1 s (12 and 5
// CPU ticks in 60 s). So the Process Info panel's p50 and p99 of the delay
// come from about 5 samples per 5 s scrape: enough to show a loop blocked by load.
export const registry = new Registry();
collectDefaultMetrics({
  register: registry,
  labels: worker === undefined ? {} : { worker },
  eventLoopMonitoringPrecision: 1000,
});
