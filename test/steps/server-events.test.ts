import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ok, sample, sampleOrZero, scrape } from '../helpers/metrics.js';
import { launch, type Running } from '../../harness/servers.js';

const REQUESTS = 20;

async function recorded(url: string, labels = ok()): Promise<{ count: number; meanMs: number }> {
  const text = await scrape(url);
  const count = sample(text, 'http_request_duration_seconds_count', labels);
  return {
    count,
    meanMs: (sample(text, 'http_request_duration_seconds_sum', labels) / count) * 1000,
  };
}

// A client that gives up during the 50 ms wait, before any byte of the body: as soon as the
// server counts the request in flight (on a busy machine a fixed 20 ms could pass before the
// server had even read it).
async function hangUp(url: string): Promise<void> {
  const req = request(`${url}/`, { agent: false });
  // 'error' when the hang-up cut the response off; only 'close' when the response had
  // already come whole (the case hangUpUntilSeen tries again for).
  const closed = new Promise<void>((resolve) => {
    req.on('error', () => {
      resolve();
    });
    req.on('close', () => {
      resolve();
    });
  });
  req.end();
  for (let i = 0; i < 200; i++) {
    if (sample(await scrape(url), 'http_requests_in_flight') >= 1) break;
    await sleep(2);
  }
  req.destroy();
  await closed;
}

const HUNG_UP = { method: 'GET', route: '/', status_code: '499' };
const requestsTotal = (text: string, labels: Record<string, string>) =>
  sampleOrZero(text, 'http_requests_total', labels);

// Hangs up on `url` until the request did not complete, at most 5 times: on a loaded machine
// the hang-up can reach the server after the 50 ms body has gone, and the request completes as
// a 200. Returns how many completed so. A hang-up shows as a 499 (wrapper, fastify) or, for the
// channel, which publishes nothing, as two seconds and more with no new 200.
async function hangUpUntilSeen(url: string): Promise<number> {
  let completed = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = await scrape(url);
    const [okBefore, hungBefore] = [requestsTotal(before, ok()), requestsTotal(before, HUNG_UP)];
    await hangUp(url);
    let outcome: 'hung up' | 'completed' | undefined;
    for (let i = 0; i < 100 && outcome === undefined; i++) {
      const text = await scrape(url);
      if (requestsTotal(text, ok()) > okBefore) outcome = 'completed';
      else if (requestsTotal(text, HUNG_UP) > hungBefore) outcome = 'hung up';
      else await sleep(20);
    }
    if (outcome !== 'completed') return completed;
    completed++;
  }
  throw new Error(`${url}: five hang-ups, each after the response had completed`);
}

const streamed = {
  v3: 'hello-world-v3/app-1',
  channel: 'hello-world-v5/app-1',
  hooks: 'hello-world-v6/app-1',
};

describe('server and framework events, with no wrapper around the app', () => {
  let servers: Record<keyof typeof streamed, Running>;
  before(async () => {
    const [v3, channel, hooks] = await Promise.all(Object.values(streamed).map((v) => launch([v])));
    if (v3 === undefined || channel === undefined || hooks === undefined)
      throw new Error('not launched');
    servers = { v3, channel, hooks };
  });
  after(() => Promise.all(Object.values(servers).map((s) => s.stop())));

  it('agree with the v3 wrapper on the 50 ms streamed body, and never count a scrape', async () => {
    await Promise.all(
      Object.values(servers).map(async (s) => {
        await scrape(s.url);
        for (let i = 0; i < REQUESTS; i++)
          assert.equal(await (await fetch(`${s.url}/`)).text(), 'Hello World!');
      }),
    );
    for (const [name, s] of Object.entries(servers)) {
      const { count, meanMs } = await recorded(s.url);
      assert.equal(count, REQUESTS, name);
      assert.ok(
        meanMs >= 50 && meanMs <= 80,
        `${name}: recorded mean ${meanMs.toFixed(2)} ms should be 50-80 ms`,
      );
    }
  });

  it('a client that hangs up: the wrapper and fastify record a 499; the channel publishes nothing', async () => {
    const [v3 = 0, channel = 0, hooks = 0] = await Promise.all(
      [servers.v3, servers.channel, servers.hooks].map((s) => hangUpUntilSeen(s.url)),
    );
    const completed = { v3, channel, hooks };
    const hungUp = HUNG_UP;
    // The server sees the closed socket once the 50 ms wait runs out; on a loaded machine
    // that can take far longer than 50 ms, so wait for the record rather than a fixed time.
    for (const s of [servers.v3, servers.hooks])
      for (let i = 0; i < 500; i++) {
        if (sampleOrZero(await scrape(s.url), 'http_request_duration_seconds_count', hungUp) > 0)
          break;
        await sleep(20);
      }
    assert.equal((await recorded(servers.v3.url, hungUp)).count, 1);
    assert.equal((await recorded(servers.hooks.url, hungUp)).count, 1);
    for (const name of ['v3', 'hooks'] as const)
      assert.equal(
        sample(await scrape(servers[name].url), 'http_requests_total', ok()),
        REQUESTS + completed[name],
        name,
      );
    const text = await scrape(servers.channel.url);
    assert.equal(sampleOrZero(text, 'http_requests_total', hungUp), 0);
    assert.equal(sample(text, 'http_requests_total', ok()), REQUESTS + completed.channel);
    // Started and never finished, as far as the channel knows: left in flight for good.
    assert.equal(sample(text, 'http_requests_in_flight'), 1);
    for (const s of [servers.v3, servers.hooks])
      assert.equal(sample(await scrape(s.url), 'http_requests_in_flight'), 0);
  });
});
