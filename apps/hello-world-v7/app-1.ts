import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { notFound, streamDone } from '../../lib/respond.js';
import { routeOf } from '../../lib/routes.js';
import * as metrics from './metrics.js';

async function* greeting(): AsyncGenerator<string> {
  await sleep(50);
  yield 'Hello World!';
}

function helloWorld(req: IncomingMessage, res: ServerResponse): void {
  if (routeOf(req.url) !== '/') {
    notFound(res);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  // The function returns now; the body follows 50 ms later, as a WSGI generator's would.
  pipeline(Readable.from(greeting()), res, streamDone);
}

export const application = metrics.application(helloWorld);
