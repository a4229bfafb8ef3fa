import { createServer } from 'node:http';
import {
  LogController,
  fastify,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginCallback,
} from 'fastify';
import { logger } from './logger.js';
import { registry } from './registry.js';
import { type Handler, runHandler } from './respond.js';

export const METRICS_PATH = '/metrics';
// Typed as fastify's own logger interface, so a variant's plugin fits either server.
const loggerInstance: FastifyBaseLogger = logger;

export function isMetricsPath(url: string | undefined): boolean {
  return url === METRICS_PATH || url?.startsWith(`${METRICS_PATH}?`) === true;
}

export interface ServerOptions {
  // Where a scrape's text comes from: this process's registry, or under --workers the
  // primary's aggregate of every worker's (lib/cluster.ts).
  metrics?: () => Promise<string>;
}

function serveMetrics(
  app: FastifyInstance,
  { metrics = () => registry.metrics() }: ServerOptions,
): void {
  app.get(METRICS_PATH, async (_request, reply) => {
    void reply.type(registry.contentType);
    // As bytes: given the text, fastify measures its UTF-8 length for the header and the socket
    // measures it again to encode it, two passes over what is 250 KB at 100 label sets
    // (0.4 M instructions each); encoded here, it is measured once.
    return Buffer.from(await metrics());
  });
}

// fastify owns the server and serves /metrics; every other request goes straight to the
// variant's request listener, so a scrape is never one of the app's requests and the app pays
// nothing for the framework.
export function buildServer(application: Handler, options: ServerOptions = {}) {
  const app = fastify({
    loggerInstance,
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
  serveMetrics(app, options);
  return app;
}

// A variant written as a fastify plugin: fastify routes every request. The plugin is
// registered in its own context, so its hooks see its routes and never a scrape of /metrics.
export function buildFrameworkServer(plugin: FastifyPluginCallback, options: ServerOptions = {}) {
  const app = fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
    // Node's own 5 s, not fastify's 72 s, so that both servers treat idle connections alike.
    keepAliveTimeout: 5000,
  });
  serveMetrics(app, options);
  void app.register(plugin);
  return app;
}
