// Step 3: record when the response completes: its 'close' event is Node's counterpart of the
// WSGI close(). Right on every path (throw, rejection, stream error, client hang-up), at the
// price of a listener and a closure per request: compare its CPU with v1 in Process Info.
import type { RequestListener } from 'node:http';
import { outcome, record, requestsInFlight } from '../../lib/http-metrics.js';
import { type Handler, runHandler } from '../../lib/respond.js';

export function application(app: Handler): RequestListener {
  return function timedApplication(req, res) {
    const start = process.hrtime.bigint();
    requestsInFlight.inc();
    // 'close' is emitted exactly once per response, whether it finished, failed or was cut off.
    res.once('close', () => {
      requestsInFlight.dec();
      record(req, outcome(res), start);
    });
    runHandler(app, req, res);
  };
}
