import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { routeOf } from './routes.js';

// Fine enough at the bottom to tell a 20 µs handler call from a 50 ms response.
export const BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
  0.06, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

// nginx's code for "client closed request": the client hung up before the response completed.
export const CLIENT_CLOSED = 499;

const labelNames = ['method', 'route', 'status_code'] as const;
export type Labels = Record<(typeof labelNames)[number], string>;

const TOTAL = 'http_requests_total';
const IN_FLIGHT = 'http_requests_in_flight';
export const TOTALS = { name: TOTAL, help: 'Requests recorded, by outcome.' };
export const DURATION = {
  name: 'http_request_duration_seconds',
  help: 'Time from the request reaching the app to the response being recorded.',
};

// What records the durations: one child bound per label set, observed once per request.
export interface Durations {
  labels(labels: Labels): { observe(seconds: number): void };
}

// prom-client's Histogram of the durations, registered in `registry`.
export function histogram(registry: Registry): Histogram<(typeof labelNames)[number]> {
  return new Histogram({ ...DURATION, labelNames, buckets: BUCKETS, registers: [registry] });
}

// What counts the requests: one count per label set, added to once per request.
export interface Totals {
  labels(labels: Labels): { count: number };
}

// prom-client's Counter of the requests, registered in `registry`. Counted in plain numbers per
// request and handed to it only when /metrics is scraped: a prom-client inc() hashes its labels
// on every call, a cost paid per request.
export function counter(registry: Registry): Totals {
  const totals: { labels: Labels; count: number; reported: number }[] = [];
  new Counter({
    name: TOTAL,
    help: TOTALS.help,
    labelNames,
    registers: [registry],
    collect() {
      for (const total of totals) {
        if (total.count > total.reported) this.inc(total.labels, total.count - total.reported);
        total.reported = total.count;
      }
    },
  });
  return {
    labels(labels) {
      const total = { labels, count: 0, reported: 0 };
      totals.push(total);
      return total;
    },
  };
}

export interface HttpMetrics<D extends Durations> {
  durations: D;
  requestsInFlight: { inc(): void; dec(): void };
  // Records one finished request: its duration since `start`, and one more in the counter.
  record: (req: IncomingMessage, status: number, start: bigint) => void;
}

// A step's request metrics, registered in `registry`: the durations as `durations` builds
// them, the request counter as `totals` builds it (prom-client's Counter unless given), and an
// in-flight gauge.
export function createHttpMetrics<D extends Durations>(options: {
  registry: Registry;
  durations: (registry: Registry) => D;
  totals?: (registry: Registry) => Totals;
}): HttpMetrics<D> {
  const { registry } = options;
  // A server loads one step. A test that loads two in one process reads each step's own
  // metrics; /metrics shows the step built last.
  for (const name of [DURATION.name, TOTAL, IN_FLIGHT]) registry.removeSingleMetric(name);
  const durations = options.durations(registry);
  const totals = (options.totals ?? counter)(registry);

  let inFlight = 0;
  new Gauge({
    name: IN_FLIGHT,
    help: 'Requests the app has started and not yet recorded.',
    registers: [registry],
    collect() {
      this.set(inFlight);
    },
  });

  interface Bound {
    duration: { observe(seconds: number): void };
    total: { count: number };
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
      children = { duration: durations.labels(labels), total: totals.labels(labels) };
      byStatus.set(status, children);
    }
    last = { method, route, status, children };
    return children;
  }

  return {
    durations,
    requestsInFlight: {
      inc() {
        inFlight++;
      },
      dec() {
        inFlight--;
      },
    },
    record: (req, status, start) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const children = bind(req.method ?? 'UNKNOWN', routeOf(req.url), status);
      children.duration.observe(seconds);
      children.total.count++;
    },
  };
}

// What a finished request came to: the code sent when the response completed, 500 when the
// server failed it (even after a 200 header went out), 499 when the client hung up first.
export function outcome(res: ServerResponse): number {
  if (res.writableFinished) return res.statusCode;
  return res.errored ? 500 : CLIENT_CLOSED;
}
