import cluster from 'node:cluster';
import { Registry, collectDefaultMetrics } from 'prom-client';

// Under --workers, each worker's number (1 to N, kept when a worker is replaced) labels its
// process metrics, so Process Info shows every worker's CPU and memory, not their sum.
export const WORKER_ENV = 'LAB_WORKER';
const worker = cluster.isWorker ? process.env[WORKER_ENV] : undefined;

// The one registry /metrics serves. Every process exposes Node's own metrics (CPU, memory,
// event-loop delay, GC), even the uninstrumented hello-world-v1: Process Info needs them all.
// The event-loop delay is sampled every 100 ms, not prom-client's 10 ms: that timer alone
// cost 0.0034 of a core per idle process (measured), 16 processes in the environment.
export const registry = new Registry();
collectDefaultMetrics({
  register: registry,
  labels: worker === undefined ? {} : { worker },
  eventLoopMonitoringPrecision: 100,
});
