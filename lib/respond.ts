import type { IncomingMessage, ServerResponse } from 'node:http';
import { logger } from './logger.js';

export function notFound(res: ServerResponse): void {
  res.statusCode = 404;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end('Not Found');
}

// A request listener that may also be async: what the server and the wrappers accept.
export type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

// Runs a handler so that neither a throw nor a rejection escapes into the server.
export function runHandler(handler: Handler, req: IncomingMessage, res: ServerResponse): void {
  try {
    const result = handler(req, res);
    if (result instanceof Promise) {
      result.catch((err: unknown) => {
        failRequest(res, err);
      });
    }
  } catch (err) {
    failRequest(res, err);
  }
}

// A failed handler still answers: a 500 if nothing was sent yet, otherwise the connection is
// cut, so the client learns the body is incomplete instead of waiting for the rest.
export function failRequest(res: ServerResponse, err: unknown): void {
  logger.error({ err }, 'request handler failed');
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy(err instanceof Error ? err : new Error(String(err)));
    return;
  }
  res.statusCode = 500;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end('Internal Server Error');
}

// The callback for pipeline(body, res, ...). A client that hangs up shows here as a premature
// close: that is the client's doing and no error of the app, so only real failures are logged.
export function streamDone(err: NodeJS.ErrnoException | null): void {
  if (err && err.code !== 'ERR_STREAM_PREMATURE_CLOSE')
    logger.error({ err }, 'response stream failed');
}
