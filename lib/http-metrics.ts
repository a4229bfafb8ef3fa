import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram } from 'prom-client';
import { CountedHistogram } from './counted-histogram.js';
import { registry } from './registry.js';
import { routeOf } from './routes.js';

// Fine enough at the bottom to tell a 20 µs handler call from a 50 ms response.
export const BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
  0.06, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

// nginx's code for "client closed request": the client hung up before the response completed.
export const CLIENT_CLOSED = 499;

const labelNames = ['method', 'route', 'status_code'] as const;
type LabelName = (typeof labelNames)[number];

const DURATION = {
  name: 'http_request_duration_seconds',
  help: 'Time from the request reaching the app to the response being recorded.',
};

export const requestDuration = new Histogram({
  ...DURATION,
  labelNames,
  buckets: BUCKETS,
  registers: [registry],
});

// What records the durations: prom-client's Histogram, or after countDurationsInPlainNumbers()
// the same histogram counted in plain numbers (lib/counted-histogram.ts).
let durations: { labels(labels: Record<LabelName, string>): { observe(seconds: number): void } } =
  requestDuration;

// The last step's saving: swaps prom-client's Histogram for one that costs a request a bucket
// search and three additions. Called when a variant's module loads, before any request.
export function countDurationsInPlainNumbers(): void {
  if (bound.size > 0)
    throw new Error(
      'countDurationsInPlainNumbers() must be called before the first request is recorded',
    );
  if (durations !== requestDuration) return;
  const counted = new CountedHistogram(DURATION.name, DURATION.help, BUCKETS);
  registry.removeSingleMetric(DURATION.name);
  counted.registerIn(registry);
  durations = counted;
}

// Counted in plain numbers per request and handed to prom-client only when /metrics is
// scraped: a prom-client inc() hashes its labels on every call, a cost paid per request.
let inFlight = 0;
const totals: { labels: Record<LabelName, string>; count: number; reported: number }[] = [];

export const requestsTotal = new Counter({
  name: 'http_requests_total',
  help: 'Requests recorded, by outcome.',
  labelNames,
  registers: [registry],
  collect() {
    for (const total of totals) {
      if (total.count > total.reported) this.inc(total.labels, total.count - total.reported);
      total.reported = total.count;
    }
  },
});

export const requestsInFlight = {
  inc(): void {
    inFlight++;
  },
  dec(): void {
    inFlight--;
  },
};

new Gauge({
  name: 'http_requests_in_flight',
  help: 'Requests the app has started and not yet recorded.',
  registers: [registry],
  collect() {
    this.set(inFlight);
  },
});

interface Bound {
  duration: { observe(seconds: number): void };
  total: (typeof totals)[number];
}

// Label children bound once per (method, route, status), found through nested maps so that
// no key string is built per request.
const bound = new Map<string, Map<string, Map<number, Bound>>>();

// The label set bound last, checked before the maps: most requests are like the one before,
// and three Map lookups measured about 0.3 µs a request in a loaded server.
let last: { method: string; route: string; status: number; children: Bound } | undefined;

function bind(method: string, route: string, status: number): Bound {
  if (
    last !== undefined &&
    last.status === status &&
    last.route === route &&
    last.method === method
  )
    return last.children;
  let byRoute = bound.get(method);
  if (byRoute === undefined) bound.set(method, (byRoute = new Map<string, Map<number, Bound>>()));
  let byStatus = byRoute.get(route);
  if (byStatus === undefined) byRoute.set(route, (byStatus = new Map<number, Bound>()));
  let children = byStatus.get(status);
  if (children === undefined) {
    const labels = { method, route, status_code: String(status) };
    const total = { labels, count: 0, reported: 0 };
    totals.push(total);
    children = { duration: durations.labels(labels), total };
    byStatus.set(status, children);
  }
  last = { method, route, status, children };
  return children;
}

export function record(req: IncomingMessage, status: number, start: bigint): void {
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const children = bind(req.method ?? 'UNKNOWN', routeOf(req.url), status);
  children.duration.observe(seconds);
  children.total.count++;
}

// What a finished request came to: the code sent when the response completed, 500 when the
// server failed it (even after a 200 header went out), 499 when the client hung up first.
export function outcome(res: ServerResponse): number {
  if (res.writableFinished) return res.statusCode;
  return res.errored ? 500 : CLIENT_CLOSED;
}
