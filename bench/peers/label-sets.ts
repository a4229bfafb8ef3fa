// A server whose requests come in as many label sets as asked: GET or POST /status/NNN is
// answered with status NNN. Arguments: WRAPPER (none, or a step's folder such as
// hello-world-v3) whose metrics.ts wraps the app as in that step, and nothing else; the
// launcher's own server (lib/server.ts) serves it and /metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Handler } from '../../lib/respond.js';
import { buildServer } from '../../lib/server.js';
import { listen } from './listen.js';

function statusApp(req: IncomingMessage, res: ServerResponse): void {
  const code = Number(req.url?.slice('/status/'.length));
  res.statusCode = code >= 200 && code <= 999 ? code : 404;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end('Hello World!');
}

const wrapper = process.argv[2] ?? 'none';
let application: Handler = statusApp;
if (wrapper !== 'none') {
  const metrics = (await import(`../../apps/${wrapper}/metrics.js`)) as {
    application(app: Handler): Handler;
  };
  application = metrics.application(statusApp);
}
await listen(buildServer(application));
