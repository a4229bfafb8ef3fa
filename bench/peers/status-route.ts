import type { FastifyInstance } from 'fastify';

// GET, POST, PUT, DELETE or PATCH /status/NNN, answered with status NNN: the requests of the
// scrape benchmark's growing label sets (bench/scrape-cost.ts labelSets), one route template,
// so each (method, status) is a label set of its own. A route a method: fastify-metrics counts
// only routes whose method it finds in its list, and a route of several methods is not found.
export function statusRoute(app: FastifyInstance): void {
  for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'])
    app.route<{ Params: { code: string } }>({
      method,
      url: '/status/:code',
      handler(request, reply) {
        void reply.code(Number(request.params.code)).type('text/plain; charset=utf-8');
        void reply.send('Hello World!');
      },
    });
}
