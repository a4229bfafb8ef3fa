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

describe('hello-world-v2/app-1: the function-call timer and a plain body', () => {
  let server: Launched;
  before(async () => (server = await launch(['hello-world-v2/app-1'])));
  after(() => server.close());

  it('records well under a millisecond for the plain hello world', async () => {
    await timedRequests(`${server.url}/`);
    const { count, meanMs } = await recordedMeanMs(server.url);
    assert.equal(count, REQUESTS);
    assert.ok(meanMs < 1, `recorded mean ${meanMs.toFixed(3)} ms should be under 1 ms`);
  });
});

describe('the two wrappers around the plain hello world', () => {
  let timer: Launched;
  let completion: Launched;
  before(async () => ([timer, completion] = await Promise.all([launch(['hello-world-v2/app-1']), launch(['hello-world-v3/app-2'])])));
  after(() => Promise.all([timer.close(), completion.close()]));

  it('records more for the plain hello world than the function-call timer does', async () => {
    // Alternate between the two so that a busy moment of the machine hits both alike.
    for (let round = 0; round < 10; round++) {
      await timedRequests(`${timer.url}/`);
      await timedRequests(`${completion.url}/`);
    }
    const [v2, v3] = await Promise.all([recordedMeanMs(timer.url), recordedMeanMs(completion.url)]);
    assert.equal(v2.count, 10 * REQUESTS);
    assert.equal(v3.count, 10 * REQUESTS);
    assert.ok(v3.meanMs > v2.meanMs, `response completion ${v3.meanMs.toFixed(3)} ms, function call ${v2.meanMs.toFixed(3)} ms`);
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
