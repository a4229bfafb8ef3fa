// fastify with the instrumentation most people write by hand: prom-client's startTimer()
// in onRequest, ended with the route's labels in onResponse.
import { fastify } from 'fastify';
import { Histogram, register } from 'prom-client';
import { listen } from './listen.js';
import { statusRoute } from './status-route.js';

const duration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Request duration.',
  labelNames: ['method', 'route', 'status_code'],
  buckets: [0.00001, 0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 5],
});
const timers = new WeakMap<object, ReturnType<Histogram['startTimer']>>();

const app = fastify({ logger: false });
app.addHook('onRequest', (request, _reply, done) => {
  timers.set(request, duration.startTimer());
  done();
});
app.addHook('onResponse', (request, reply, done) => {
  timers.get(request)?.({
    method: request.method,
    route: request.routeOptions.url ?? 'unmatched',
    status_code: reply.statusCode,
  });
  done();
});
app.get('/', (_request, reply) => {
  void reply.type('text/plain; charset=utf-8').send('Hello World!');
});
app.get('/metrics', async (_request, reply) => {
  void reply.type(register.contentType);
  return register.metrics();
});
statusRoute(app);
await listen(app);
