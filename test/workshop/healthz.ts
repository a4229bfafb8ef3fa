// Whether the portal's event loop is free: /healthz must answer within 1 s, the bound the
// issue that hardened the portal set (a frozen portal never answers at all).
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';

export async function healthz(url: string): Promise<void> {
  const began = performance.now();
  let status: number;
  try {
    status = (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).status;
  } catch (err) {
    throw new Error(
      `/healthz did not answer within 1 s (${(err as Error).message}, after ${Math.round(performance.now() - began)} ms)`,
      { cause: err },
    );
  }
  assert.equal(status, 200);
}

// The asking is done by a thread of its own: a test that sends 10,000 messages or reads
// 50 MB keeps its own event loop busy, and a late answer must be the portal's, not the
// test's.
const POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
let done = false;
parentPort.on('message', () => { done = true; });
(async () => {
  const slow = [];
  let asked = 0;
  while (!done) {
    const began = performance.now();
    try {
      const response = await fetch(workerData + '/healthz', { signal: AbortSignal.timeout(1000) });
      await response.text();
      if (response.status !== 200) slow.push('status ' + response.status);
    } catch (err) {
      slow.push(err.name + ' after ' + Math.round(performance.now() - began) + ' ms');
    }
    asked++;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  parentPort.postMessage({ slow, asked });
})();
`;

// Runs `work` while another thread asks /healthz every 200 ms; each answer must come
// within 1 s, and so must one more after `work` is done.
export async function responsiveDuring<T>(url: string, work: () => Promise<T>): Promise<T> {
  const worker = new Worker(POLLER, { eval: true, workerData: url });
  const report = new Promise<{ slow: string[]; asked: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  try {
    return await work();
  } finally {
    worker.postMessage('stop');
    const { slow, asked } = await report;
    await worker.terminate();
    assert.deepEqual(slow, [], `of ${asked} asks of /healthz, these were not answered in 1 s`);
    await healthz(url);
  }
}
