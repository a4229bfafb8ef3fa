import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventWritesPerRequest, type Cost } from '../helpers/cost.js';
import { ok, sample, scrape } from '../helpers/metrics.js';
import { needTool } from '../helpers/stack.js';
import { launch, type Running } from '../../harness/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'events-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function events(file: string): { route: string; status: number; seconds: number; msg: string }[] {
  const text = readFileSync(file, 'utf8');
  return text === ''
    ? []
    : text
        .trimEnd()
        .split('\n')
        .map(
          (l) => JSON.parse(l) as { route: string; status: number; seconds: number; msg: string },
        );
}

async function requests(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) assert.equal(await (await fetch(`${url}/`)).text(), 'Hello World!');
}

describe('hello-world-v4: one event per request', () => {
  it('app-1 writes each event as its request completes', async () => {
    const file = join(dir, 'app-1.log');
    const server = await launch(['hello-world-v4/app-1'], { env: { REQUEST_EVENTS_FILE: file } });
    try {
      await requests(server.url, 25);
      // The client has the last response before the server's 'close' listener has run.
      for (let i = 0; i < 40 && events(file).length < 25; i++) await sleep(50);
      const written = events(file);
      assert.equal(written.length, 25);
      assert.deepEqual(
        written.map((e) => [e.msg, e.route, e.status]),
        Array(25).fill(['request', '/', 200]),
      );
      assert.ok(written.every((e) => e.seconds > 0 && e.seconds < 1));
      assert.equal(sample(await scrape(server.url), 'http_requests_total', ok()), 25);
    } finally {
      await server.stop();
    }
  });

  it('app-2 holds events until 4 KiB are pending, and writes the rest when the process stops', async () => {
    const file = join(dir, 'app-2.log');
    const server = await launch(['hello-world-v4/app-2'], { env: { REQUEST_EVENTS_FILE: file } });
    await requests(server.url, 25); // about 3.6 KiB of events
    assert.equal(events(file).length, 0);
    await server.stop();
    assert.equal(await server.exited, 0);
    assert.equal(events(file).length, 25);
  });

  it('fails at start-up, naming the setting, when the events file cannot be opened', async () => {
    await assert.rejects(
      launch(['hello-world-v4/app-1'], {
        env: { REQUEST_EVENTS_FILE: join(dir, 'missing', 'x.log') },
      }),
      /REQUEST_EVENTS_FILE=.*missing\/x\.log cannot be opened/,
    );
  });
});

// The same load, at the same rate and in the same window, on v3 and on both v4 apps: write
// calls on each one's events file per request, counted by strace. Their CPU per request is
// measured by npm run bench, whose rows the workshop page quotes.
describe(
  'what an event per request costs in writes',
  {
    skip: needTool('strace', 'apt-get install strace'),
  },
  () => {
    const variants = ['hello-world-v3/app-2', 'hello-world-v4/app-1', 'hello-world-v4/app-2'];
    let servers: Running[];
    let v3: Cost, sync: Cost, buffered: Cost;
    before(async () => {
      const files = variants.map((_, i) => join(dir, `writes-${i}.log`));
      servers = await Promise.all(
        variants.map((v, i) => launch([v], { env: { REQUEST_EVENTS_FILE: files[i] ?? '' } })),
      );
      const costs = await eventWritesPerRequest(
        servers.map((s, i) => ({ url: s.url, pid: s.child.pid ?? 0, eventsFile: files[i] ?? '' })),
        2000,
        1000,
        dir,
      );
      [v3, sync, buffered] = costs as [Cost, Cost, Cost];
    });
    after(() => Promise.all(servers.map((s) => s.stop())));

    it('counts every request of the load', () => {
      for (const c of [v3, sync, buffered]) assert.equal(c.requests, 2000);
    });

    it('app-1 makes one write(2) per event on top of the response; app-2 at most one per ten events', () => {
      assert.equal(v3.writes, 0, 'v3 writes no events');
      assert.equal(sync.writes, 1, `sync: ${sync.writes} writes per request`);
      assert.ok(buffered.writes <= 0.1, `buffered: ${buffered.writes} writes per request`);
    });
  },
);
