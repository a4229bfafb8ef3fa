// Asks a server's /healthz every `intervalMs` from a thread of its own, each with a 1 s
// limit, and keeps how long each answer took: a test or a benchmark that reads 50 MB or
// sends 10,000 messages keeps its own event loop busy, and a late answer must be the
// server's, not the asker's.
import { Worker } from 'node:worker_threads';

export interface HealthzReport {
  // Milliseconds of each answer, in order; Infinity for none within 1 s.
  ms: number[];
  // What went wrong with those that failed: a timeout, an error, a status not 200.
  failures: string[];
}

const POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
let done = false;
parentPort.on('message', () => { done = true; });
(async () => {
  const ms = [];
  const failures = [];
  while (!done) {
    const began = performance.now();
    try {
      const response = await fetch(workerData.url + '/healthz', { signal: AbortSignal.timeout(1000) });
      await response.text();
      ms.push(performance.now() - began);
      if (response.status !== 200) failures.push('status ' + response.status);
    } catch (err) {
      ms.push(Infinity);
      failures.push(err.name + ' after ' + Math.round(performance.now() - began) + ' ms');
    }
    await new Promise((resolve) => setTimeout(resolve, workerData.intervalMs));
  }
  parentPort.postMessage({ ms, failures });
})();
`;

export function pollHealthz(url: string, intervalMs: number): { stop(): Promise<HealthzReport> } {
  const worker = new Worker(POLLER, { eval: true, workerData: { url, intervalMs } });
  const report = new Promise<HealthzReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      try {
        return await report;
      } finally {
        await worker.terminate();
      }
    },
  };
}
