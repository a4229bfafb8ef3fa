import type { FastifyInstance } from 'fastify';
import * as metrics from './metrics.js';

// The same hello world as a fastify plugin: fastify, not a wrapper, sees each request.
export function plugin(app: FastifyInstance, _options: unknown, done: () => void): void {
  metrics.timeRequests(app);
  app.get('/', (_request, reply) => reply.type('text/plain; charset=utf-8').send('Hello World!'));
  app.all('*', (_request, reply) =>
    reply.code(404).type('text/plain; charset=utf-8').send('Not Found'),
  );
  done();
}
