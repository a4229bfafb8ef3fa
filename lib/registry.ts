import { Registry, collectDefaultMetrics } from 'prom-client';

// The one registry /metrics serves. Every process exposes Node's own metrics (CPU, memory,
// event-loop delay, GC), even the uninstrumented hello-world-v1: Process Info needs them all.
export const registry = new Registry();
collectDefaultMetrics({ register: registry });
