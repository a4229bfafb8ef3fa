import type { IncomingMessage, ServerResponse } from 'node:http';
import { notFound } from '../../lib/respond.js';
import { routeOf } from '../../lib/routes.js';
import * as metrics from './metrics.js';

function helloWorld(req: IncomingMessage, res: ServerResponse): void {
  if (routeOf(req.url) !== '/') {
    notFound(res);
    return;
  }
  // Headers set, not written: res.end() can then send a Content-Length, not a chunked body.
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end('Hello World!');
}

export const application = metrics.application(helloWorld);
