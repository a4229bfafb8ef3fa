import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launch, type Running } from '../../harness/servers.js';
import type { FastifyInstance } from 'fastify';
import * as functionCallApp from '../../apps/hello-world-v2/app-1.js';
import * as functionCall from '../../apps/hello-world-v2/metrics.js';
import * as completion from '../../apps/hello-world-v3/metrics.js';
import { buildServer } from '../../lib/server.js';
import { ok, sample, scrape } from '../helpers/metrics.js';

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
  let server: Running;
  before(async () => (server = await launch(['hello-world-v2/app-2'])));
  after(() => server.stop());

  it('records microseconds while the client waits at least 50 ms', async () => {
    const clientMeanMs = await timedRequests(`${server.url}/`);
    const { count, meanMs } = await recordedMeanMs(server.url);
    assert.equal(count, REQUESTS);
    assert.ok(clientMeanMs >= 50, `client mean ${clientMeanMs.toFixed(2)} ms`);
    assert.ok(meanMs < 5, `recorded mean ${meanMs.toFixed(3)} ms should be under 5 ms`);
  });
});

describe('hello-world-v2/app-1: the function-call timer and a plain body', () => {
  let server: Running;
  before(async () => (server = await launch(['hello-world-v2/app-1'])));
  after(() => server.stop());

  it('records well under a millisecond for the plain hello world', async () => {
    await timedRequests(`${server.url}/`);
    const text = await scrape(server.url);
    assert.equal(sample(text, 'http_request_duration_seconds_count', ok()), REQUESTS);
    // The median, read from the histogram as Grafana's p50 is: more than half of the requests
    // fall in the buckets up to 0.5 ms. A mean would let one cold first call decide.
    const underHalfMs = sample(text, 'http_request_duration_seconds_bucket', {
      le: '0.0005',
      ...ok(),
    });
    assert.ok(
      underHalfMs > REQUESTS / 2,
      `${underHalfMs} of ${REQUESTS} requests recorded under 0.5 ms`,
    );
  });
});

describe('the two wrappers around the plain hello world', () => {
  // Both wrappers time the same requests here, in one process: the response-completion
  // wrapper of v3 around the function-call timer of v2 around the hello world of v2 app-1.
  // Two separate servers would compare a few microseconds of difference with the noise of a
  // shared machine; one request timed by both has no such noise between its two numbers.
  interface Reading {
    count: number;
    sum: number;
    // Seconds the reading itself took while the request was being timed.
    cost: number;
  }
  const readings: { functionCall?: Reading; completion?: Reading }[] = [];
  let server: FastifyInstance;
  let url: string;

  // prom-client computes a reading synchronously when get() is called (there is no collect
  // callback on this histogram), so a reading taken in a 'close' listener holds exactly the
  // observations made before it; the counts checked below prove that. What that computation
  // costs falls inside the response-completion timing, so it is measured and taken off.
  function readInto(
    durations: typeof completion.metrics.durations,
    store: (r: Reading) => void,
  ): () => void {
    return () => {
      const start = process.hrtime.bigint();
      const reading = durations.get();
      const cost = Number(process.hrtime.bigint() - start) / 1e9;
      void reading.then(({ values }) => {
        const of = (name: string): number =>
          values.find(
            (v) =>
              v.metricName === name && v.labels.route === '/' && v.labels.status_code === '200',
          )?.value ?? 0;
        store({
          count: of('http_request_duration_seconds_count'),
          sum: of('http_request_duration_seconds_sum'),
          cost,
        });
      });
    };
  }

  before(async () => {
    const timedTwice = completion.application(functionCallApp.application);
    server = buildServer((req, res) => {
      const slot: (typeof readings)[number] = {};
      readings.push(slot);
      // The first 'close' listener: the function call has been recorded, the completion not yet.
      res.prependListener(
        'close',
        readInto(functionCall.metrics.durations, (r) => (slot.functionCall = r)),
      );
      timedTwice(req, res);
      // The last one: the response-completion wrapper has recorded too.
      res.on(
        'close',
        readInto(completion.metrics.durations, (r) => (slot.completion = r)),
      );
    });
    url = await server.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => server.close());

  it('records more for the same request than the function-call timer does', async (t) => {
    const n = REQUESTS * 10;
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${url}/`);
      assert.equal(await res.text(), 'Hello World!');
      // The client can have the body before the server's 'close' listeners have run.
      while (readings[i]?.completion === undefined)
        await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.equal(readings.length, n);
    let previous = { call: 0, whole: 0 };
    const functionCall: number[] = [];
    const responseCompletion: number[] = [];
    for (const [i, slot] of readings.entries()) {
      assert.ok(slot.functionCall && slot.completion);
      assert.equal(
        slot.functionCall.count,
        i + 1,
        `request ${i}: the first reading saw the wrong observations`,
      );
      assert.equal(
        slot.completion.count,
        i + 1,
        `request ${i}: the last reading saw the wrong observations`,
      );
      const call = slot.functionCall.sum - previous.call;
      // The first reading ran inside the response-completion timing: its cost is taken off.
      const whole = slot.completion.sum - previous.whole - slot.functionCall.cost;
      previous = { call: slot.functionCall.sum, whole: slot.completion.sum };
      assert.ok(call > 0, `request ${i}: no function-call time recorded`);
      assert.ok(
        whole > call,
        `request ${i}: response completion ${(whole * 1e6).toFixed(1)} µs, function call ${(call * 1e6).toFixed(1)} µs`,
      );
      functionCall.push(call);
      responseCompletion.push(whole);
    }
    const medianUs = (xs: number[]): string =>
      ((xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0) * 1e6).toFixed(1);
    t.diagnostic(
      `median of ${n} requests: function call ${medianUs(functionCall)} µs, response completion ${medianUs(responseCompletion)} µs`,
    );
  });
});

describe('hello-world-v3/app-1: the response-completion wrapper and a streamed body', () => {
  let server: Running;
  before(async () => (server = await launch(['hello-world-v3/app-1'])));
  after(() => server.stop());

  it('records the 50 ms the client waits', async () => {
    const clientMeanMs = await timedRequests(`${server.url}/`);
    const { count, meanMs } = await recordedMeanMs(server.url);
    assert.equal(count, REQUESTS);
    assert.ok(clientMeanMs >= 50, `client mean ${clientMeanMs.toFixed(2)} ms`);
    assert.ok(
      meanMs >= 50 && meanMs <= 80,
      `recorded mean ${meanMs.toFixed(2)} ms should be 50-80 ms`,
    );
    assert.ok(meanMs <= clientMeanMs, 'the server cannot record more time than the client saw');
  });
});
