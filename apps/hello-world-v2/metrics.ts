// Step 2: time the call of the request handler function, as a Python decorator would.
// Still wrong: a handler that returns before its response is done (a streamed body) is
// recorded at the moment it returns, not when the response completes.
import type { RequestListener } from 'node:http';
import { createHttpMetrics, histogram } from '../../lib/http-metrics.js';
import { registry } from '../../lib/registry.js';

export const metrics = createHttpMetrics({ registry, durations: histogram });
const { record, requestsInFlight } = metrics;

export function functionCall(handler: RequestListener): RequestListener {
  return function timedFunctionCall(req, res) {
    const start = process.hrtime.bigint();
    requestsInFlight.inc();
    try {
      handler(req, res);
    } finally {
      requestsInFlight.dec();
      record(req, res.statusCode, start);
    }
  };
}
