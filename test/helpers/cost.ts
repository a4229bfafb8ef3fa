// What a request costs a server process in write(2) calls (from /proc/PID/io), for several
// servers loaded at the same rate in the same window: a count, not a time, so it holds on a
// busy machine. (CPU per request is the benchmark's to measure: npm run bench.)
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { ok, sample, scrape } from './metrics.js';

export interface Target {
  url: string;
  pid: number;
}

export interface Cost {
  requests: number;
  writes: number; // write(2) calls per request
}

function writeCalls(pid: number): number {
  const line = readFileSync(`/proc/${pid}/io`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('syscw:'));
  return Number(line?.split(/\s+/)[1]);
}

async function reading(target: Target): Promise<{ requests: number; writes: number }> {
  const text = await scrape(target.url);
  return {
    requests: sample(text, 'http_requests_total', ok()),
    writes: writeCalls(target.pid),
  };
}

async function load(targets: Target[], amount: number, rate: number): Promise<void> {
  await Promise.all(
    targets.map((t) => autocannon({ url: `${t.url}/`, amount, connections: 3, overallRate: rate })),
  );
}

// A warm-up first, so the JIT has compiled the request path before anything is counted.
export async function writesPerRequest(
  targets: Target[],
  amount: number,
  rate: number,
): Promise<Cost[]> {
  await load(targets, Math.ceil(amount / 4), rate);
  const before = await Promise.all(targets.map(reading));
  await load(targets, amount, rate);
  const after = await Promise.all(targets.map(reading));
  return targets.map((_, i) => {
    const b = before[i];
    const a = after[i];
    if (a === undefined || b === undefined) throw new Error('no reading');
    // The scrape between the readings adds a few writes to thousands: negligible.
    const requests = a.requests - b.requests;
    return { requests, writes: (a.writes - b.writes) / requests };
  });
}
