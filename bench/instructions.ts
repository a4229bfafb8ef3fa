// Instructions per request, counted by valgrind's callgrind: the same total on a busy machine as
// on an idle one, so a verdict on them reproduces where wall-clock ratios do not.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, start } from '../harness/servers.js';
import type { ServerSpec } from './servers.js';

// V8 made as repeatable as it allows. --single-threaded: no compiler or GC threads, whose work
// would land in the count in whatever order the OS ran them. Fixed seeds: the same hash table
// layouts in every run. A fixed 16 MiB young generation: V8 otherwise resizes it as it sees fit,
// and a scavenge (about 2,000 requests apart here) lands on a fixed allocation count. A 512 MiB
// old generation and no memory reducer: no full collection, which costs a whole window of
// requests 10,000 instructions each when it happens to fall in it (measured: two runs of v7,
// 54,273 and 64,739 a request, before these two flags). Full collections are left out of the
// count: at these rates they come minutes apart.
// Measured for hello-world-v1 (16,000 requests after 8,000): 50,720 and 50,822 a request, 0.2 %
// apart; with V8's defaults, 83,349 and 59,532.
export const V8_FLAGS = [
  '--single-threaded',
  '--hash-seed=1',
  '--random-seed=1',
  '--min-semi-space-size=16',
  '--max-semi-space-size=16',
  '--initial-old-space-size=512',
  '--no-memory-reducer',
];

// One request of a workload, and the status it must be answered with.
export interface Req {
  method: string;
  path: string;
  status: number;
}
export const HELLO: Req = { method: 'GET', path: '/', status: 200 };
export const SCRAPE: Req = { method: 'GET', path: '/metrics', status: 200 };

export interface Counts {
  // Sent first, once: what the server should have served before (e.g. before a scrape).
  prime?: Req[];
  // The requests counted, cycled through.
  requests: Req[];
  // Requests sent before counting: enough for V8 to have optimized the hot functions.
  warmup: number;
  // The two request counts whose difference is measured.
  n1: number;
  n2: number;
}

export const REQUEST_COUNTS: Counts = { requests: [HELLO], warmup: 5000, n1: 1000, n2: 9000 };

const OUT = join(ROOT, '.tmp', 'callgrind');

// Sends `n` requests, cycling through `requests`, one after another on one keep-alive
// connection: each request meets the same server state (one in flight), so no batching that
// varies with timing enters the count.
export async function send(port: number, requests: Req[], n: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < n; i++) {
      const { method, path, status } = requests[i % requests.length] ?? HELLO;
      await new Promise<void>((resolve, reject) => {
        request({ host: '127.0.0.1', port, method, path, agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === status) resolve();
            else reject(new Error(`${method} ${path}: ${res.statusCode}, not ${status}`));
          });
        })
          .on('error', reject)
          .end();
      });
    }
  } finally {
    agent.destroy();
  }
}

function control(pid: number, command: string): void {
  execFileSync('callgrind_control', [command, String(pid)], { stdio: 'ignore' });
}

// The total of callgrind's latest dump for a process.
function lastDump(pid: number): number {
  const prefix = `callgrind.out.${pid}.`;
  const parts = readdirSync(OUT)
    .filter((f) => f.startsWith(prefix))
    .map((f) => Number(f.slice(prefix.length)))
    .sort((a, b) => a - b);
  const text = readFileSync(join(OUT, `${prefix}${parts.at(-1)}`), 'utf8');
  const total = /^(?:totals|summary): (\d+)/m.exec(text)?.[1];
  if (total === undefined) throw new Error(`no total in ${prefix}${parts.at(-1)}`);
  return Number(total);
}

// Instructions a second of a server sent nothing, over 5 s.
async function idleRate(pid: number): Promise<number> {
  control(pid, '--zero');
  const t = performance.now();
  await sleep(5000);
  control(pid, '--dump');
  return lastDump(pid) / ((performance.now() - t) / 1000);
}

// Starts the server under callgrind and runs each workload in turn: warms the server up, then
// counts the instructions it runs while serving n1 requests and, apart, n2:
// (I(n2) - I(n1)) / (n2 - n1) leaves out what both share (the counting's own start and stop).
export async function countInstructions(
  spec: ServerSpec,
  workloads: Counts[],
): Promise<{ perRequest: number[]; seconds: number; idle: number }> {
  const began = performance.now();
  mkdirSync(OUT, { recursive: true });
  // Tracked by the harness: stopped when the bench exits or is interrupted. Under valgrind
  // node takes minutes, not seconds, to listen on a busy machine.
  const server = await start([...V8_FLAGS, ...spec.command], {
    wrap: ['valgrind', '--tool=callgrind', `--callgrind-out-file=${join(OUT, 'callgrind.out.%p')}`],
    timeoutMs: 600_000,
  });
  const { pid, port } = server;
  try {
    // What the server runs while idle, a second: timers that fire by the clock, not by the
    // request (prom-client's event-loop delay monitor, every 100 ms: lib/registry.ts). Under
    // valgrind on a busy machine a request can take 10 ms of wall time, and these add thousands
    // of instructions to it: each count below is taken less this rate times its own duration.
    const idle = await idleRate(pid);
    const perRequest: number[] = [];
    for (const counts of workloads) {
      if (counts.prime !== undefined) await send(port, counts.prime, counts.prime.length);
      await send(port, counts.requests, counts.warmup);
      const totals: number[] = [];
      for (const n of [counts.n1, counts.n2]) {
        control(pid, '--zero');
        const t = performance.now();
        await send(port, counts.requests, n);
        control(pid, '--dump');
        totals.push(lastDump(pid) - (idle * (performance.now() - t)) / 1000);
      }
      const [i1 = NaN, i2 = NaN] = totals;
      perRequest.push((i2 - i1) / (counts.n2 - counts.n1));
    }
    return { perRequest, seconds: (performance.now() - began) / 1000, idle };
  } finally {
    await server.stop();
    for (const f of readdirSync(OUT).filter((f) => f.startsWith(`callgrind.out.${pid}`)))
      rmSync(join(OUT, f), { force: true });
  }
}

// Runs `task` on every item, `jobs` at a time, keeping the items' order in the results.
export async function inParallel<T, R>(
  items: T[],
  jobs: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i] as T);
      }
    }),
  );
  return results;
}
