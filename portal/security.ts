import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Codespace, forwardedRequestAllowed } from './codespaces.js';

// A web terminal is a door into the machine. Every request, WebSocket upgrades included,
// must name the portal itself in Host (DNS rebinding) and, when the browser sends an
// Origin, come from the portal's own page (cross-site requests, WebSocket hijacking).
export const LOCAL_HOSTS = ['localhost', '127.0.0.1', '::1'];
export const TOKEN_COOKIE = 'workshop_token';
// A token is guessed by trying: 16 characters at least (refused at start otherwise), and
// 20 failed attempts a minute from one address, then 429 until the minute is over.
export const MIN_TOKEN_LENGTH = 16;
export const FAILED_ATTEMPTS = { max: 20, windowMs: 60_000 };

export interface Guard {
  allowedHosts: ReadonlySet<string>;
  token?: string | undefined;
  // In a GitHub Codespace: its forwarded name and Origin pair is accepted too (codespaces.ts).
  codespace?: Codespace | undefined;
}

// "example:8080" -> "example", "[::1]:8080" -> "::1"; undefined when it is not a host.
export function hostname(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(host);
  const name = m?.[1] ?? m?.[2];
  return name?.toLowerCase();
}

export function hostAllowed(host: string | undefined, guard: Guard): boolean {
  const name = hostname(host);
  return name !== undefined && guard.allowedHosts.has(name);
}

export function originAllowed(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (host === undefined || !URL.canParse(origin)) return false;
  const url = new URL(origin);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase();
}

// A malformed escape (`%E0%A4%A`) is no token: undefined, and so a 401, never a 500.
function cookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const ASK_TOKEN = `<!doctype html><meta charset="utf-8"><title>Workshop</title>
<form method="get" action="/" style="font:16px sans-serif;margin:4em auto;max-width:30em">
<p>This workshop portal asks for its token (<code>WORKSHOP_TOKEN</code>).</p>
<input name="token" type="password" autofocus> <button>Open</button></form>`;

// Failed token attempts by client address (server.ts counts them with @fastify/rate-limit):
// `wait` is how many seconds an address must wait before it may try again, 0 when it may.
export interface Attempts {
  wait(request: FastifyRequest): Promise<number>;
  failed(request: FastifyRequest): Promise<void>;
}

// Fastify onRequest hook: 403 for a foreign Host or Origin, 429 after too many failed
// attempts at the token, 401 without the token.
export function guardRequests(guard: Guard, attempts: Attempts) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // A refused WebSocket upgrade is a bare socket once answered: close it, or the server's
    // close() waits for it.
    if (request.headers.upgrade !== undefined)
      reply.raw.once('finish', () => {
        if (reply.statusCode !== 101) request.raw.socket.destroy();
      });
    const host = request.headers.host;
    const origin = request.headers.origin;
    const local = request.raw.socket.localPort;
    if (
      !(hostAllowed(host, guard) && originAllowed(origin, host)) &&
      !forwardedRequestAllowed(guard.codespace, hostname(host), origin, local)
    ) {
      await reply
        .code(403)
        .type('text/plain')
        .send("forbidden: not this portal's host or origin\n");
      return;
    }
    if (guard.token === undefined || request.url === '/healthz') return;
    const held = cookie(request, TOKEN_COOKIE);
    if (held !== undefined && same(held, guard.token)) return;
    const wait = await attempts.wait(request);
    if (wait > 0) {
      await reply
        .code(429)
        .header('retry-after', String(wait))
        .type('text/plain')
        .send(`too many wrong tokens from this address: try again in ${wait} s\n`);
      return;
    }
    const offered = (request.query as Record<string, unknown> | undefined)?.['token'];
    if (typeof offered === 'string' && same(offered, guard.token)) {
      await reply
        .header(
          'set-cookie',
          `${TOKEN_COOKIE}=${encodeURIComponent(offered)}; HttpOnly; SameSite=Strict; Path=/`,
        )
        .redirect('/');
      return;
    }
    await attempts.failed(request);
    await reply.code(401).type('text/html').send(ASK_TOKEN);
  };
}
