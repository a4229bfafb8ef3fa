// Step 6: no wrapper: the framework times requests. fastify's onRequest and onResponse hooks
// see every request of the routes registered beside them; onRequestAbort sees a client hang
// up. The price is fastify's own: it already listens for the end of every response.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { CLIENT_CLOSED, createHttpMetrics, histogram } from '../../lib/http-metrics.js';
import { registry } from '../../lib/registry.js';

export const metrics = createHttpMetrics({ registry, durations: histogram });
const { record, requestsInFlight } = metrics;

const started = new WeakMap<IncomingMessage, bigint>();

function finish(request: FastifyRequest, status: number): void {
  const start = started.get(request.raw);
  if (start === undefined) return; // recorded already: an abort after onResponse, or the reverse
  started.delete(request.raw);
  requestsInFlight.dec();
  record(request.raw, status, start);
}

export function timeRequests(app: FastifyInstance): void {
  // Callback hooks: an async hook would cost a promise per request and per hook.
  app.addHook('onRequest', (request, _reply, done) => {
    started.set(request.raw, process.hrtime.bigint());
    requestsInFlight.inc();
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    finish(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    finish(request, CLIENT_CLOSED);
    done();
  });
}
