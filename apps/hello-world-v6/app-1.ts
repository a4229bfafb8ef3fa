import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import * as metrics from './metrics.js';

async function* greeting(): AsyncGenerator<string> {
  await sleep(50);
  yield 'Hello World!';
}

// The same hello world as a fastify plugin: fastify, not a wrapper, sees each request.
export function plugin(app: FastifyInstance, _options: unknown, done: () => void): void {
  metrics.timeRequests(app);
  // The handler returns now; the body follows 50 ms later, as a WSGI generator's would.
  app.get('/', (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(Readable.from(greeting())),
  );
  app.all('*', (_request, reply) =>
    reply.code(404).type('text/plain; charset=utf-8').send('Not Found'),
  );
  done();
}
