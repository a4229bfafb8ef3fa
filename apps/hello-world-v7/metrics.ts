// Step 7: v3's wrapper, unchanged, with the duration histogram counted in plain numbers and
// handed to prom-client only when scraped (lib/counted-histogram.ts): prom-client's observe()
// hashed the labels of every request, most of what v3 cost over v1. The request counter is
// counted so too (lib/counted-counter.ts), and both write their lines at a scrape from label
// text escaped once.
import type { RequestListener, ServerResponse } from 'node:http';
import { countedCounter as totals } from '../../lib/counted-counter.js';
import { countedHistogram as durations } from '../../lib/counted-histogram.js';
import { createHttpMetrics, outcome } from '../../lib/http-metrics.js';
import { registry } from '../../lib/registry.js';
import { type Handler, runHandler } from '../../lib/respond.js';

export const metrics = createHttpMetrics({ registry, durations, totals });
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
