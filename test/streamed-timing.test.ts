import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launch, type Launched } from './helpers/servers.js';
import { ok, sample, scrape } from './helpers/metrics.js';

const REQUESTS = 20;

async function timedRequests(url: string): Promise<number> {
  let total = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const start = performance.now();
    const res = await fetch(url);
    assert.equal(await res.text(), 'Hello World!');
    total += performance.now() - start;
  }
  return total / REQUESTS;
}

async function recordedMeanMs(url: string): Promise<{ count: number; meanMs: number }> {
  const text = await scrape(url);
  const count = sample(text, 'http_request_duration_seconds_count', ok());
  const sum = sample(text, 'http_request_duration_seconds_sum', ok());
  return { count, meanMs: (sum / count) * 1000 };
}

describe('hello-world-v2/app-2: the function-call timer and a streamed body', () => {
  let server: Launched;
  before(async () => (server = await launch(['hello-world-v2/app-2'])));
  after(() => server.close());

  it('records microseconds while the client waits at least 50 ms', async () => {
    const clientMeanMs = await timedRequests(`${server.url}/`);
    const { count, meanMs } = await recordedMeanMs(server.url);
    assert.equal(count, REQUESTS);
    assert.ok(clientMeanMs >= 50, `client mean ${clientMeanMs.toFixed(2)} ms`);
    assert.ok(meanMs < 5, `recorded mean ${meanMs.toFixed(3)} ms should be under 5 ms`);
  });
});

describe('hello-world-v3/app-1: the response-completion wrapper and a streamed body', () => {
  let server: Launched;
  before(async () => (server = await launch(['hello-world-v3/app-1'])));
  after(() => server.close());

  it('records the 50 ms the client waits', async () => {
    const clientMeanMs = await timedRequests(`${server.url}/`);
    const { count, meanMs } = await recordedMeanMs(server.url);
    assert.equal(count, REQUESTS);
    assert.ok(clientMeanMs >= 50, `client mean ${clientMeanMs.toFixed(2)} ms`);
    assert.ok(meanMs >= 50 && meanMs <= 80, `recorded mean ${meanMs.toFixed(2)} ms should be 50-80 ms`);
    assert.ok(meanMs <= clientMeanMs, 'the server cannot record more time than the client saw');
  });
});
