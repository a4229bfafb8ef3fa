// Step 5: no wrapper: Node's HTTP server publishes when each request starts and each response
// finishes (node:diagnostics_channel), and a subscriber times them. Still wrong: a response
// that never finishes (client hung up, body stream failed) is published nowhere: not counted,
// and left in flight for good.
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHttpMetrics, histogram } from '../../lib/http-metrics.js';
import { registry } from '../../lib/registry.js';
import { isMetricsPath } from '../../lib/server.js';

export const metrics = createHttpMetrics({ registry, durations: histogram });
const { record, requestsInFlight } = metrics;

interface ServerEvent {
  request: IncomingMessage;
  response: ServerResponse;
}

// Keyed by the response, so a request whose response never finishes leaves no memory behind.
const started = new WeakMap<ServerResponse, bigint>();

function requestStart(message: unknown): void {
  const { request, response } = message as ServerEvent;
  // The server also carries the scrapes of /metrics, which are no request of the app.
  if (isMetricsPath(request.url)) return;
  started.set(response, process.hrtime.bigint());
  requestsInFlight.inc();
}

function responseFinish(message: unknown): void {
  const { request, response } = message as ServerEvent;
  const start = started.get(response);
  if (start === undefined) return;
  started.delete(response);
  requestsInFlight.dec();
  record(request, response.statusCode, start);
}

subscribe('http.server.request.start', requestStart);
subscribe('http.server.response.finish', responseFinish);
