// 10,000 random messages at one terminal (random JSON values, known and unknown `t`, fields
// of random types, truncated JSON, binary frames), then broken WebSocket frames on raw
// sockets: the portal, the connection and the shell survive.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { responsiveDuring } from './healthz.js';
import { type Portal, startPortal } from '../../harness/portal.js';
import { answers, attachTerminal, shellAnswers } from '../../harness/terminal-client.js';

const COUNT = 10_000;
const SEED = Number(process.env['FUZZ_SEED'] ?? 18);

// mulberry32: a small seeded generator, so that a failure can be run again (FUZZ_SEED).
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function fuzzer(random: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const text = (): string =>
    Array.from({ length: Math.floor(random() * 12) }, () =>
      String.fromCharCode(Math.floor(random() * 0x3000)),
    ).join('');
  const value = (depth = 0): unknown =>
    pick([
      () => null,
      () => random() < 0.5,
      () => Math.floor(random() * 2 ** 33) - 2 ** 32,
      () => random() * 1e6,
      () => pick([0, -1, 1e308, 2, 500, 501, 2 ** 31, 2 ** 53]),
      text,
      () => (depth > 2 ? [] : Array.from({ length: 3 }, () => value(depth + 1))),
      () => (depth > 2 ? {} : { [text()]: value(depth + 1) }),
    ])();
  const types = ['in', 'execute', 'interrupt', 'restart', 'resize', 'ack'] as const;
  const fields = ['data', 'cols', 'rows', 'chars', 't', '__proto__', 'constructor'];
  return (): { data: string | Buffer; binary: boolean } => {
    const r = random();
    if (r < 0.1) {
      const bytes = Buffer.from(
        Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256)),
      );
      return { data: bytes, binary: true };
    }
    if (r < 0.2) return { data: JSON.stringify(value()), binary: false };
    const message: Record<string, unknown> = {
      t: random() < 0.8 ? pick(types) : value(),
    };
    for (let i = Math.floor(random() * 4); i > 0; i--) message[pick(fields)] = value();
    // A well-formed `in` or `execute` is typed into the shell: it types only a harmless
    // word, never random keys (Ctrl-D would end the shell, a quote leave it waiting).
    if (
      (message['t'] === 'in' || message['t'] === 'execute') &&
      typeof message['data'] === 'string'
    )
      message['data'] = `fuzz${Math.floor(random() * 1e6)}`;
    const json = JSON.stringify(message);
    if (r < 0.3) return { data: json.slice(0, Math.floor(random() * json.length)), binary: false };
    return { data: json, binary: false };
  };
}

// A WebSocket upgrade on a raw socket, then `frame` as it is, then the socket is ended.
async function rawFrame(port: number, frame: Buffer): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    [
      'GET /terminals/4 HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      '',
      '',
    ].join('\r\n'),
  );
  let answer = '';
  await new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n\r\n')) resolve();
    });
  });
  assert.match(answer, /^HTTP\/1\.1 101/);
  socket.write(frame);
  socket.end();
  await new Promise((resolve) => socket.once('close', resolve));
}

describe('a terminal sent 10,000 random messages', () => {
  let portal: Portal;
  before(async () => {
    portal = await startPortal();
  });
  after(async () => {
    await portal.close();
  });

  it(`refuses what is malformed, acts on what is well formed, and the portal and the shell survive (seed ${SEED})`, async () => {
    const client = await attachTerminal(portal.url, '4');
    const next = fuzzer(generator(SEED));
    try {
      await responsiveDuring(portal.url, async () => {
        for (let i = 0; i < COUNT; i++) {
          const { data, binary } = next();
          client.ws.send(data, { binary });
          // Let the socket drain now and then, as a page would.
          if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
        }
        // Messages are handled in order: once this is answered, all before it were.
        await answers(client);
      });
      assert.equal(client.ws.readyState, client.ws.OPEN);
      assert.ok(client.errors.length > COUNT / 2, `${client.errors.length} refused`);
    } finally {
      await client.close();
    }
    await shellAnswers(portal.url, '4');
  });

  it('ends a connection that sends a broken frame, and no other', async () => {
    const watcher = await attachTerminal(portal.url, '4');
    try {
      await responsiveDuring(portal.url, async () => {
        // A text frame that promises 100 bytes and brings 5; one not masked, as a client's
        // must be; one of a reserved opcode; a control frame longer than 125 bytes.
        await rawFrame(portal.port, Buffer.from([0x81, 0x80 | 100, 1, 2, 3, 4, 0x68]));
        await rawFrame(portal.port, Buffer.from([0x81, 0x02, 0x68, 0x69]));
        await rawFrame(portal.port, Buffer.from([0x83, 0x80, 1, 2, 3, 4]));
        await rawFrame(
          portal.port,
          Buffer.concat([Buffer.from([0x89, 0x80 | 126, 0, 200, 1, 2, 3, 4]), Buffer.alloc(200)]),
        );
      });
      assert.equal(watcher.ws.readyState, watcher.ws.OPEN);
    } finally {
      await watcher.close();
    }
    await shellAnswers(portal.url, '4');
  });
});
