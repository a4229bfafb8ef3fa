// Whether the portal's event loop is free: /healthz must answer within 1 s, the bound the
// issue that hardened the portal set (a frozen portal never answers at all).
import assert from 'node:assert/strict';
import { pollHealthz } from '../../harness/healthz.js';

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

// Runs `work` while another thread asks /healthz every 200 ms; each answer must come
// within 1 s, and so must one more after `work` is done.
export async function responsiveDuring<T>(url: string, work: () => Promise<T>): Promise<T> {
  const poller = pollHealthz(url, 200);
  try {
    return await work();
  } finally {
    const { ms, failures } = await poller.stop();
    assert.deepEqual(failures, [], `of ${ms.length} asks of /healthz, these failed`);
    await healthz(url);
  }
}
