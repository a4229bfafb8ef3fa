import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Examiner, parseMessage } from './examiner-session.js';
import { listPages } from './pages.js';
import { viewFile } from './files.js';
import { createRenderer } from './render.js';
import { type Guard, guardRequests } from './security.js';
import { type Terminals } from './terminals.js';

export interface PortalOptions {
  root: string;
  guard: Guard;
  grafanaUrl: string;
  rewriteCommand: (command: string) => string;
  terminals: Terminals;
  examiner: Examiner;
  // Shown on every page: where the terminals run.
  where: string;
}

interface Socket {
  send(data: string): void;
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'close', listener: () => void): void;
}

const SESSION = /^[1-9]$/;

const PUBLIC = fileURLToPath(new URL('public/', import.meta.url));

const escape = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

export async function createPortal(options: PortalOptions): Promise<FastifyInstance> {
  const { root, terminals } = options;
  const workshop = join(root, 'workshop');
  const render = createRenderer(options);
  const app = Fastify({ logger: false });
  app.addHook('onRequest', guardRequests(options.guard));
  await app.register(fastifyWebsocket, { options: { maxPayload: 1 << 20 } });

  const statics: Array<[string, string]> = [
    ['/assets/', PUBLIC],
    ['/vendor/xterm/', join(root, 'node_modules', '@xterm', 'xterm')],
    ['/vendor/addon-fit/', join(root, 'node_modules', '@xterm', 'addon-fit')],
    ['/vendor/hljs/', join(root, 'node_modules', 'highlight.js', 'styles')],
    ['/workshop/figures/', join(workshop, 'figures')],
  ];
  for (const [prefix, dir] of statics)
    await app.register(fastifyStatic, { root: dir, prefix, decorateReply: false, index: false });

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
    const config = { grafanaUrl: options.grafanaUrl, where: options.where };
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

  app.get<{
    Querystring: {
      path?: string;
      text?: string;
      isRegex?: string;
      before?: string;
      after?: string;
    };
  }>('/api/file', async (request, reply) => {
    const { path, text, isRegex, before, after } = request.query;
    if (path === undefined || path === '') return reply.code(400).send({ error: 'no path' });
    try {
      return viewFile(
        root,
        path,
        text === undefined
          ? undefined
          : {
              text,
              isRegex: isRegex === 'true',
              before: Number(before ?? 0) || 0,
              after: Number(after ?? 0) || 0,
            },
      );
    } catch (err) {
      return reply.code(404).send({ error: (err as Error).message });
    }
  });

  app.get<{ Params: { id: string } }>('/terminals/:id', { websocket: true }, (raw, request) => {
    const socket = raw as unknown as Socket & { close(code?: number, reason?: string): void };
    const id = request.params.id;
    if (!SESSION.test(id)) {
      socket.close(1008, 'terminals are numbered 1 to 9');
      return;
    }
    const session = terminals.attach(id, socket);
    socket.on('message', (data) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return;
      }
      const text = typeof message['data'] === 'string' ? message['data'] : '';
      switch (message['t']) {
        case 'in':
          terminals.input(session, text);
          break;
        case 'execute':
          terminals.execute(session, text);
          break;
        case 'interrupt':
          terminals.interrupt(session);
          break;
        case 'restart':
          terminals.restart(session);
          break;
        case 'resize':
          terminals.resize(session, Number(message['cols']), Number(message['rows']));
          break;
      }
    });
    socket.on('close', () => {
      terminals.detach(session, socket);
    });
  });

  // The page's checks: the browser says which page it shows and which check to run; the
  // examiner runs them in processes of their own and reports back.
  app.get('/examiner', { websocket: true }, (raw) => {
    const socket = raw as unknown as Socket;
    const session = options.examiner.connect((message) => {
      socket.send(JSON.stringify(message));
    });
    socket.on('message', (data) => {
      const message = parseMessage(data.toString());
      if (typeof message === 'string') socket.send(JSON.stringify({ t: 'error', message }));
      else session.handle(message);
    });
    socket.on('close', () => {
      session.close();
    });
  });

  app.addHook('onClose', () => {
    terminals.close();
    options.examiner.close();
  });
  return app;
}
