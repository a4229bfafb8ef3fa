import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from './registry.js';
import { routeOf } from './routes.js';

// Fine enough at the bottom to tell a 20 µs handler call from a 50 ms response.
export const BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
  0.05, 0.06, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

// nginx's code for "client closed request": the client hung up before the response completed.
export const CLIENT_CLOSED = 499;

const labelNames = ['method', 'route', 'status_code'] as const;

export const requestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time from the request reaching the app to the response being recorded.',
  labelNames,
  buckets: BUCKETS,
  registers: [registry],
});

export const requestsTotal = new Counter({
  name: 'http_requests_total',
  help: 'Requests recorded, by outcome.',
  labelNames,
  registers: [registry],
});

export const requestsInFlight = new Gauge({
  name: 'http_requests_in_flight',
  help: 'Requests the app has started and not yet recorded.',
  registers: [registry],
});

interface Children {
  duration: Histogram.Internal<(typeof labelNames)[number]>;
  total: Counter.Internal;
}

// Label children are bound once per (method, route, status): prom-client hashes a label
// object on every unbound observe, which is the largest per-request cost it has.
const bound = new Map<string, Children>();

export function record(req: IncomingMessage, status: number, start: bigint): void {
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const method = req.method ?? 'UNKNOWN';
  const route = routeOf(req.url);
  const key = `${method} ${route} ${status}`;
  let children = bound.get(key);
  if (children === undefined) {
    const labels = { method, route, status_code: String(status) };
    children = { duration: requestDuration.labels(labels), total: requestsTotal.labels(labels) };
    bound.set(key, children);
  }
  children.duration.observe(seconds);
  children.total.inc();
}

// What a finished request came to: the code sent when the response completed, 500 when the
// server failed it (even after a 200 header went out), 499 when the client hung up first.
export function outcome(res: ServerResponse): number {
  if (res.writableFinished) return res.statusCode;
  return res.errored ? 500 : CLIENT_CLOSED;
}
