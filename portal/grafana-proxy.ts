// Grafana on the portal's own origin, under a path such as /grafana/: in a GitHub Codespace
// one forwarded port then carries the whole workshop. A second forwarded port (3000) would
// need its own GitHub sign-in cookie, whose sign-in page refuses to be framed, and its
// proxy's Origin rewrite would fail Grafana Live's origin check. Grafana must serve from
// that path itself (root_url ending in it, serve_from_sub_path: .devcontainer/compose.yml).
// Requests pass the portal's Host, Origin and token checks first, like every other route.
import fastifyHttpProxy from '@fastify/http-proxy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import WebSocket, { type RawData } from 'ws';
import { TOKEN_COOKIE } from './security.js';

export interface GrafanaProxyOptions {
  // Where the browser sees Grafana on the portal: "/grafana".
  path: string;
  // Where the portal reaches Grafana: "http://grafana:3000".
  upstream: string;
}

// An anonymous viewer's Grafana sends queries as POSTs of a few KiB; 1 MiB is far above.
const MAX_BODY = 1 << 20;
// Grafana Live: one connection per browser tab; Grafana itself allows 100 by default.
const MAX_LIVE = 32;
// A side that has this much queued for it stops the other side reading until it drains.
const HIGH_WATER = 1 << 20;
const LOW_WATER = 1 << 16;

export function grafanaUnreachable(upstream: string): string {
  return (
    `Grafana does not answer at ${upstream}: is the grafana service up? ` +
    'It takes up to a minute after the environment starts. Reload this tab to try again.\n'
  );
}

// The portal's own token stays with the portal: Grafana gets every other cookie.
function withoutToken(cookie: string | undefined): string | undefined {
  if (cookie === undefined) return undefined;
  const kept = cookie
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && part.split('=')[0] !== TOKEN_COOKIE);
  return kept.length === 0 ? undefined : kept.join('; ');
}

export async function registerGrafanaProxy(
  app: FastifyInstance,
  options: GrafanaProxyOptions,
): Promise<void> {
  const { path, upstream } = options;
  const target = new URL(upstream);

  await app.register(fastifyHttpProxy, {
    prefix: path,
    upstream,
    rewritePrefix: path,
    // Grafana Live's WebSocket is bridged below, through the portal's own WebSocket server.
    websocket: false,
    // A viewer reads and queries; nothing else goes through.
    httpMethods: ['GET', 'HEAD', 'POST'],
    preHandler: (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const length = Number(request.headers['content-length']);
      if (request.method !== 'POST') done();
      else if (!Number.isInteger(length) || length < 0)
        void reply.code(411).type('text/plain').send('a POST to Grafana needs a length\n');
      else if (length > MAX_BODY)
        void reply.code(413).type('text/plain').send('too large for Grafana here\n');
      else done();
    },
    undici: { connections: 16, connectTimeout: 5_000, headersTimeout: 30_000, bodyTimeout: 60_000 },
    replyOptions: {
      rewriteRequestHeaders: (_request, headers) => {
        const { cookie } = headers;
        const rest = { ...headers };
        // The portal checked Origin; Grafana sees the request as its own (Host is its own).
        delete rest.origin;
        delete rest.cookie;
        const kept = withoutToken(typeof cookie === 'string' ? cookie : undefined);
        return { ...rest, host: target.host, ...(kept === undefined ? {} : { cookie: kept }) };
      },
      rewriteHeaders: (headers) => {
        // Grafana writes redirects from its root_url (http://localhost:3000/grafana/...), which
        // the learner's browser may not reach: keep the path, on the portal's origin.
        const location = headers['location'];
        if (typeof location === 'string' && URL.canParse(location)) {
          const url = new URL(location);
          if (url.pathname === path || url.pathname.startsWith(`${path}/`))
            return { ...headers, location: `${url.pathname}${url.search}${url.hash}` };
        }
        return headers;
      },
      onError: (reply) => {
        void reply.code(502).type('text/plain').send(grafanaUnreachable(upstream));
      },
    },
  });

  const live = new Set<Pick<WebSocket, 'terminate'>>();
  const liveUrl = `${target.protocol === 'https:' ? 'wss' : 'ws'}://${target.host}${path}/api/live/ws`;
  app.get(`${path}/api/live/ws`, { websocket: true }, (socket, request) => {
    const client = socket as Peer & Pick<WebSocket, 'protocol' | 'close'>;
    if (live.size >= MAX_LIVE) {
      client.close(1013, 'too many Grafana Live connections');
      return;
    }
    const cookie = withoutToken(request.headers.cookie);
    const grafana = new WebSocket(liveUrl, client.protocol === '' ? [] : [client.protocol], {
      handshakeTimeout: 10_000,
      maxPayload: HIGH_WATER,
      ...(cookie === undefined ? {} : { headers: { cookie } }),
    });
    live.add(client);
    bridge(client, grafana);
    bridge(grafana, client);
    const end = (): void => {
      live.delete(client);
      for (const peer of [client, grafana])
        if (peer.readyState === WebSocket.OPEN) peer.close(1000);
        else if (peer.readyState === WebSocket.CONNECTING) peer.terminate();
    };
    for (const peer of [client, grafana]) {
      peer.once('close', end);
      peer.on('error', () => {
        for (const other of [client, grafana]) other.terminate();
      });
    }
  });
  app.addHook('onClose', () => {
    for (const socket of live) socket.terminate();
  });
}

type Peer = Pick<
  WebSocket,
  | 'readyState'
  | 'bufferedAmount'
  | 'isPaused'
  | 'send'
  | 'pause'
  | 'resume'
  | 'terminate'
  | 'on'
  | 'once'
>;

// What `from` says goes to `to`, once `to` is open; `from` stops being read while `to` has
// more than HIGH_WATER queued, and resumes below LOW_WATER.
function bridge(from: Peer, to: Peer): void {
  const early: Array<[RawData, boolean]> = [];
  let earlyBytes = 0;
  const drained = (): void => {
    if (to.bufferedAmount < LOW_WATER && from.isPaused) from.resume();
  };
  const send = (data: RawData, binary: boolean): void => {
    to.send(data, { binary }, drained);
    if (to.bufferedAmount > HIGH_WATER) from.pause();
  };
  from.on('message', (data, binary) => {
    if (to.readyState === WebSocket.OPEN) send(data, binary);
    else if (to.readyState === WebSocket.CONNECTING) {
      earlyBytes += Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
      if (earlyBytes > HIGH_WATER) from.terminate();
      else early.push([data, binary]);
    }
  });
  to.once('open', () => {
    for (const [data, binary] of early.splice(0)) send(data, binary);
  });
}
