import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { type GrafanaProxyOptions, registerGrafanaProxy } from './grafana-proxy.js';
import { listPages, parsePage, str } from './pages.js';
import { viewFile } from './files.js';
import { createGrafanaProbe } from './grafana.js';
import { createHeartbeat } from './heartbeat.js';
import { createRenderer } from './render.js';
import { type Attempts, FAILED_ATTEMPTS, type Guard, guardRequests } from './security.js';
import { MAX_FRAME, serveTerminal } from './terminal-socket.js';
import { type Terminals } from './terminals.js';

export interface PortalOptions {
  root: string;
  guard: Guard;
  grafanaUrl: string;
  // Where the portal itself reaches Grafana, to tell the page whether it answers.
  grafanaUpstream: string;
  // Grafana served on this origin under a path (GRAFANA_URL=/grafana), from its upstream.
  grafanaProxy?: GrafanaProxyOptions | undefined;
  // In a GitHub Codespace: the Grafana tab says why a frame of another forwarded port is empty.
  codespace?: boolean;
  rewriteCommand: (command: string) => string;
  terminals: Terminals;
  // Shown on every page: where the terminals run.
  where: string;
}

// Pings every 15 s; a socket that missed one is ended within 30 s.
const HEARTBEAT_MS = 15_000;

const PUBLIC = fileURLToPath(new URL('public/', import.meta.url));
// Found as Node finds them: the workshop image keeps its dependencies in /home/node/node_modules,
// above the repository, so that a dev container can mount a checkout over the repository.
const require = createRequire(import.meta.url);
const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`));

const escape = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

export async function createPortal(options: PortalOptions): Promise<FastifyInstance> {
  const { root, terminals } = options;
  const workshop = join(root, 'workshop');
  const render = createRenderer(options);
  const grafana = createGrafanaProbe(options.grafanaUpstream);
  const app = Fastify({ logger: false });
  // Only its counter is used, by the guard, for failed attempts at the token.
  await app.register(fastifyRateLimit, { global: false });
  const limit = app.createRateLimit({
    max: FAILED_ATTEMPTS.max,
    timeWindow: FAILED_ATTEMPTS.windowMs,
  });
  const attempts: Attempts = {
    async wait(request) {
      const state = await limit(request, { increment: false });
      return !state.isAllowed && state.remaining === 0 ? Math.max(1, state.ttlInSeconds) : 0;
    },
    async failed(request) {
      await limit(request);
    },
  };
  app.addHook('onRequest', guardRequests(options.guard, attempts));
  const heartbeat = createHeartbeat(HEARTBEAT_MS, () => {
    terminals.sweep();
  });
  await app.register(fastifyWebsocket, {
    // allowSynchronousEvents: false hands the messages of one read to the handler one per
    // turn of the event loop: 10,000 resizes in one read held it 1.5 s, and /healthz with it.
    options: { maxPayload: MAX_FRAME, allowSynchronousEvents: false },
    // The default closes each socket politely and waits for its answer: a client that
    // stopped reading never gives one.
    preClose(done) {
      heartbeat.close();
      done();
    },
  });

  const statics: Array<[string, string]> = [
    ['/assets/', PUBLIC],
    ['/vendor/xterm/', packageDir('@xterm/xterm')],
    ['/vendor/addon-fit/', packageDir('@xterm/addon-fit')],
    ['/vendor/hljs/', join(packageDir('highlight.js'), 'styles')],
    ['/workshop/figures/', join(workshop, 'figures')],
  ];
  for (const [prefix, dir] of statics)
    await app.register(fastifyStatic, { root: dir, prefix, decorateReply: false, index: false });
  if (options.grafanaProxy !== undefined) await registerGrafanaProxy(app, options.grafanaProxy);

  const pages = (): Array<{ name: string; title: string; file: string }> =>
    listPages(workshop).map((file) => {
      const name = file.slice(workshop.length + 1, -3);
      const title = /^# (.+)$/m.exec(readFileSync(file, 'utf8'))?.[1]?.trim() ?? name;
      return { name, title, file };
    });

  app.get('/healthz', () => 'ok\n');

  app.get('/', async (_request, reply) => {
    const list = pages();
    const template = readFileSync(join(PUBLIC, 'index.html'), 'utf8');
    const config = {
      grafanaUrl: options.grafanaUrl,
      where: options.where,
      codespace: options.codespace === true,
    };
    return reply
      .type('text/html')
      .header('cache-control', 'no-store')
      .send(
        template
          .replace(
            '<!--pages-->',
            list
              .map(
                (p, i) =>
                  `<li><a href="#${escape(p.name)}" data-page="${escape(p.name)}">${i + 1}. ${escape(p.title)}</a></li>`,
              )
              .join('\n'),
          )
          .replace('<!--where-->', escape(options.where))
          .replace('"CONFIG"', JSON.stringify(config).replace(/</g, '\\u003c')),
      );
  });

  app.get('/api/terminals', () => [...terminals.sessions.keys()].sort());

  app.get('/api/grafana', () => grafana());

  app.get('/api/pages', () => pages().map(({ name, title }) => ({ name, title })));

  app.get<{ Params: { name: string } }>('/api/pages/:name', async (request, reply) => {
    const page = pages().find((p) => p.name === request.params.name);
    if (page === undefined)
      return reply.code(404).send({ error: `no page "${request.params.name}"` });
    try {
      return render(page.file);
    } catch (err) {
      return reply.code(500).send({ error: `${page.name}.md: ${(err as Error).message}` });
    }
  });

  app.get<{ Querystring: { path?: unknown } }>('/api/file', async (request, reply) => {
    const { path } = request.query;
    if (typeof path !== 'string' || path === '' || path.length > 1024)
      return reply.code(400).send({ error: 'path: a file of the repository' });
    try {
      return viewFile(root, path);
    } catch (err) {
      return reply.code(404).send({ error: (err as Error).message });
    }
  });

  // The lines an editor:select-matching-text action marks, looked up by its page and the
  // line its block starts on: the pattern (a regular expression, when isRegex) is the
  // page's, never the network's, so no request can run a pattern of its own choosing.
  app.get<{ Querystring: { page?: unknown; line?: unknown } }>(
    '/api/selection',
    async (request, reply) => {
      const { page: name, line } = request.query;
      const page = pages().find((p) => p.name === name);
      const action =
        page === undefined || typeof line !== 'string'
          ? undefined
          : parsePage(page.file).blocks.find(
              (b) =>
                b.type === 'action' &&
                b.action.kind === 'editor:select-matching-text' &&
                String(b.action.line) === line,
            );
      if (action?.type !== 'action')
        return reply.code(404).send({ error: 'no such selection on that page' });
      const body = action.action.body;
      try {
        return viewFile(root, str(body, 'file') ?? '', {
          text: str(body, 'text') ?? '',
          isRegex: body['isRegex'] === true,
          before: Number(body['before'] ?? 0) || 0,
          after: Number(body['after'] ?? 0) || 0,
        });
      } catch (err) {
        return reply.code(404).send({ error: (err as Error).message });
      }
    },
  );

  app.get<{ Params: { id: string } }>('/terminals/:id', { websocket: true }, (socket, request) => {
    heartbeat.watch(socket);
    serveTerminal(terminals, request.params.id, socket);
  });

  app.addHook('onClose', () => {
    terminals.close();
  });
  return app;
}
