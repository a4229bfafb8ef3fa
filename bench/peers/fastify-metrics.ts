// fastify with fastify-metrics as its README sets it up: defaults, /metrics.
import { fastify } from 'fastify';
import fastifyMetrics from 'fastify-metrics';
import { listen } from './listen.js';
import { statusRoute } from './status-route.js';

const app = fastify({ logger: false });
await app.register(fastifyMetrics.default, { endpoint: '/metrics' });
app.get('/', (_request, reply) => {
  void reply.type('text/plain; charset=utf-8').send('Hello World!');
});
statusRoute(app);
await listen(app);
