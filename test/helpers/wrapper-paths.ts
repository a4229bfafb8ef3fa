import assert from 'node:assert/strict';
import {
  request,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import { Readable, pipeline } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { type Handler, streamDone } from '../../lib/respond.js';
import { sample, sampleOrZero, scrape } from './metrics.js';
import { serve, type Served } from './servers.js';

// Each path of a request, chosen by the query string; all share the route "/".
const cases: Record<string, (req: IncomingMessage, res: ServerResponse) => unknown> = {
  ok(_req, res) {
    res.end('Hello World!');
  },
  throw() {
    throw new Error('handler threw');
  },
  async reject() {
    await sleep(5);
    throw new Error('handler rejected');
  },
  'stream-error'(_req, res) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    async function* body(): AsyncGenerator<string> {
      yield 'Hello ';
      await sleep(20);
      throw new Error('body failed half way');
    }
    pipeline(Readable.from(body()), res, streamDone);
  },
  async slow(_req, res) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.flushHeaders();
    await sleep(300);
    res.end('too late');
  },
};

const STATUSES = ['200', '499', '500'];

function counts(text: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const status of STATUSES) {
    found[status] = sampleOrZero(text, 'http_request_duration_seconds_count', {
      method: 'GET',
      route: '/',
      status_code: status,
    });
  }
  return found;
}

// The tests of a response-completion wrapper (v3's, and v7's that records the same way), on
// real sockets: one observation per request, with the right status, on every path.
export function describeEveryPath(
  title: string,
  application: (app: Handler) => RequestListener,
): void {
  describe(`${title}: one observation per request on every path`, () => {
    let server: Served;
    before(async () => {
      server = await serve(
        application((req, res) => {
          const name = new URL(req.url ?? '/', 'http://x').searchParams.get('case') ?? 'ok';
          return cases[name]?.(req, res);
        }),
      );
    });
    after(() => server.stop());

    async function inFlightSettles(): Promise<string> {
      for (let i = 0; i < 100; i++) {
        const text = await scrape(server.url);
        if (sample(text, 'http_requests_in_flight') === 0) return text;
        await sleep(20);
      }
      throw new Error('http_requests_in_flight did not return to 0');
    }

    async function observe(run: () => Promise<void>, status: string): Promise<void> {
      const before = counts(await scrape(server.url));
      await run();
      // Wait long enough for a second, wrong observation to show if there were one.
      await sleep(400);
      const text = await inFlightSettles();
      const after = counts(text);
      for (const s of STATUSES) {
        const delta = (after[s] ?? 0) - (before[s] ?? 0);
        assert.equal(delta, s === status ? 1 : 0, `observations with status_code="${s}"`);
      }
      const res = await fetch(`${server.url}/`);
      assert.equal(await res.text(), 'Hello World!', 'the server still answers');
    }

    it('records a response that completes with its status', async () => {
      await observe(async () => {
        const res = await fetch(`${server.url}/?case=ok`);
        assert.equal(res.status, 200);
        await res.text();
      }, '200');
    });

    it('answers a synchronous throw with 500 and records 500', async () => {
      await observe(async () => {
        const res = await fetch(`${server.url}/?case=throw`);
        assert.equal(res.status, 500);
        assert.equal(await res.text(), 'Internal Server Error');
      }, '500');
    });

    it('answers a rejected promise with 500 and records 500', async () => {
      await observe(async () => {
        const res = await fetch(`${server.url}/?case=reject`);
        assert.equal(res.status, 500);
        await res.text();
      }, '500');
    });

    it('records 500 when the body stream fails after a 200 header went out', async () => {
      await observe(async () => {
        const res = await fetch(`${server.url}/?case=stream-error`);
        assert.equal(res.status, 200);
        await assert.rejects(res.text(), 'the client sees the body cut off');
      }, '500');
    });

    it('records 499 when the client hangs up before the response completes', async () => {
      await observe(
        () =>
          new Promise<void>((resolve, reject) => {
            const req = request(`${server.url}/?case=slow`, () => {
              req.destroy();
              resolve();
            });
            req.on('error', (err: NodeJS.ErrnoException) => {
              if (err.code !== 'ECONNRESET') reject(err);
            });
            req.end();
          }),
        '499',
      );
    });
  });
}
