// Step 5: no wrapper: Node's HTTP server publishes when each request starts and each response
// finishes (node:diagnostics_channel), and a subscriber times them. Still missing: a response
// that never finishes (client hung up, body stream failed) is published nowhere, so not counted.
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { record } from '../../lib/http-metrics.js';
import { isMetricsPath } from '../../lib/server.js';

interface ServerEvent {
  request: IncomingMessage;
  response: ServerResponse;
}

// Keyed by the response, so a request whose response never finishes leaves nothing behind.
const started = new WeakMap<ServerResponse, bigint>();

function requestStart(message: unknown): void {
  const { request, response } = message as ServerEvent;
  // The server also carries the scrapes of /metrics, which are no request of the app.
  if (!isMetricsPath(request.url)) started.set(response, process.hrtime.bigint());
}

function responseFinish(message: unknown): void {
  const { request, response } = message as ServerEvent;
  const start = started.get(response);
  if (start === undefined) return;
  started.delete(response);
  record(request, response.statusCode, start);
}

subscribe('http.server.request.start', requestStart);
subscribe('http.server.response.finish', responseFinish);
