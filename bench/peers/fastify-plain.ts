// fastify's hello world, uninstrumented: the peers' own baseline.
import { fastify } from 'fastify';
import { listen } from './listen.js';
import { statusRoute } from './status-route.js';

const app = fastify({ logger: false });
app.get('/', (_request, reply) => {
  void reply.type('text/plain; charset=utf-8').send('Hello World!');
});
statusRoute(app);
await listen(app);
