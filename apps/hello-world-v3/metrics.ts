// Step 3: record when the response completes: its 'close' event is Node's counterpart of the
// WSGI close(). Right on every path (throw, rejection, stream error, client hang-up), at the
// price of a listener per request: compare its CPU with v1 in Process Info.
import type { RequestListener, ServerResponse } from 'node:http';
import { histogram as durations } from '../../lib/http-metrics.js';
import { createHttpMetrics, outcome } from '../../lib/http-metrics.js';
import { registry } from '../../lib/registry.js';
import { type Handler, runHandler } from '../../lib/respond.js';

export const metrics = createHttpMetrics({ registry, durations });
const { record, requestsInFlight } = metrics;

const START = Symbol('start');
type Timed = ServerResponse & { [START]: bigint };

// One listener function for every response ('this' is the response): no closure to allocate
// per request. 'close' is emitted exactly once, whether the response finished, failed or was
// cut off by the client.
function recordOnClose(this: Timed): void {
  requestsInFlight.dec();
  record(this.req, outcome(this), this[START]);
}

export function application(app: Handler): RequestListener {
  return function timedApplication(req, res) {
    (res as Timed)[START] = process.hrtime.bigint();
    requestsInFlight.inc();
    res.on('close', recordOnClose);
    runHandler(app, req, res);
  };
}
