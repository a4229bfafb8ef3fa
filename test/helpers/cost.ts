// What a request costs a server in write calls to its events file, counted by strace for
// several servers loaded at the same rate in the same window: a count, not a time. Only calls
// on that file count: the process's total (/proc/PID/io syscw) also counts the eventfd
// wake-ups of V8's and libuv's threads, which grew by up to a quarter of a call per request
// on a busy machine. (CPU per request is the benchmark's to measure: npm run bench.)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { track } from '../../harness/servers.js';
import { ok, sample, scrape } from './metrics.js';

export interface Target {
  url: string;
  pid: number;
  eventsFile: string;
}

export interface Cost {
  requests: number;
  writes: number; // write calls on the events file, per request
}

// Every thread of the process (-f with -p), with file paths (-y), into `log`.
async function trace(pid: number, log: string): Promise<() => Promise<void>> {
  const child = track(
    spawn(
      'strace',
      ['-f', '-qq', '-y', '-e', 'trace=write,writev,pwrite64,pwritev', '-o', log, '-p', `${pid}`],
      { stdio: 'ignore' },
    ),
  );
  const exited = once(child, 'exit');
  await sleep(500); // strace attaches to every thread before the load starts
  return async () => {
    child.kill('SIGINT'); // detaches and leaves the server running
    await exited;
  };
}

function callsOn(log: string, file: string): number {
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.includes(`<${file}>`)).length;
}

async function requestsServed(url: string): Promise<number> {
  return sample(await scrape(url), 'http_requests_total', ok());
}

// A warm-up first, so the JIT has compiled the request path before anything is counted.
export async function eventWritesPerRequest(
  targets: Target[],
  amount: number,
  rate: number,
  logDir: string,
): Promise<Cost[]> {
  const load = (n: number) =>
    Promise.all(
      targets.map((t) =>
        autocannon({ url: `${t.url}/`, amount: n, connections: 3, overallRate: rate }),
      ),
    );
  await load(Math.ceil(amount / 4));
  const before = await Promise.all(targets.map((t) => requestsServed(t.url)));
  const logs = targets.map((_, i) => `${logDir}/strace-${i}.log`);
  const detach = await Promise.all(targets.map((t, i) => trace(t.pid, logs[i] ?? '')));
  await load(amount);
  await sleep(200); // the last responses' 'close' listeners write their events
  await Promise.all(detach.map((d) => d()));
  const after = await Promise.all(targets.map((t) => requestsServed(t.url)));
  return targets.map((t, i) => {
    const requests = (after[i] ?? 0) - (before[i] ?? 0);
    return { requests, writes: callsOn(logs[i] ?? '', t.eventsFile) / requests };
  });
}
