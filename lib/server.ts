import { createServer } from 'node:http';
import { LogController, fastify } from 'fastify';
import { logger } from './logger.js';
import { registry } from './registry.js';
import { type Handler, runHandler } from './respond.js';

export const METRICS_PATH = '/metrics';

function isMetricsPath(url: string | undefined): boolean {
  return url === METRICS_PATH || url?.startsWith(`${METRICS_PATH}?`) === true;
}

// fastify owns the server and serves /metrics; every other request goes straight to the
// variant's request listener, so a scrape is never one of the app's requests and the app pays
// nothing for the framework.
export function buildServer(application: Handler) {
  const app = fastify({
    loggerInstance: logger,
    // A log line per request is a lesson of its own (the per-request reporting step).
    logController: new LogController({ disableRequestLogging: true }),
    serverFactory: (fastifyHandler) =>
      createServer((req, res) => {
        if (isMetricsPath(req.url)) {
          fastifyHandler(req, res);
          return;
        }
        // The server's own safety net, for apps whose wrapper does not catch: a crashing
        // handler costs its request a 500, never the process.
        runHandler(application, req, res);
      }),
  });

  app.get(METRICS_PATH, async (_request, reply) => {
    void reply.type(registry.contentType);
    return registry.metrics();
  });
  return app;
}
