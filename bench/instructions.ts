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
  // Then windows of this many requests, each counted, until two in a row agree within 1 %.
  settle?: number;
  // The two request counts whose difference is measured.
  n1: number;
  n2: number;
}

// When V8 has done compiling moves with the run. hello-world-v1 in windows of 4,000 requests
// after every 6,000 from start-up: 158,245 a request in the first, 55,646 in the second,
// 52,218 to 53,525 in the ten after. In another run, after 20,000 requests on one connection:
// 295,710 a request in the next 2,000, 66,747 in the 12,000 after, 59,463 at 36,000 and 52,424
// at 54,000. So at least 20,000 requests of warm-up, then windows of 4,000 until two in a row
// agree within 1 % (SETTLED, at most SETTLE_WINDOWS of them); then 20,000 requests counted.
export const REQUEST_COUNTS: Counts = {
  requests: [HELLO],
  warmup: 20_000,
  settle: 4000,
  n1: 2000,
  n2: 22_000,
};
const SETTLED = 0.01;
const SETTLE_WINDOWS = 12;

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

function dumps(pid: number): number[] {
  const prefix = `callgrind.out.${pid}.`;
  return readdirSync(OUT)
    .filter((f) => f.startsWith(prefix))
    .map((f) => Number(f.slice(prefix.length)))
    .sort((a, b) => a - b);
}

// Dumps the counts and returns the dump's total. callgrind_control exits 0 even when vgdb
// could not reach the process: a dump that did not happen is an error, not the one before.
function dump(pid: number): number {
  const before = dumps(pid).length;
  control(pid, '--dump');
  const parts = dumps(pid);
  if (parts.length !== before + 1) throw new Error(`callgrind did not dump process ${pid}`);
  const file = `callgrind.out.${pid}.${parts.at(-1)}`;
  const total = /^(?:totals|summary): (\d+)/m.exec(readFileSync(join(OUT, file), 'utf8'))?.[1];
  if (total === undefined) throw new Error(`no total in ${file}`);
  return Number(total);
}

// Instructions a second of a server sent nothing, over 5 s.
async function idleRate(pid: number): Promise<number> {
  control(pid, '--zero');
  const t = performance.now();
  await sleep(5000);
  return dump(pid) / ((performance.now() - t) / 1000);
}

// Starts the server under callgrind and runs each workload in turn: warms the server up, then
// counts the instructions it runs while serving n1 requests and, apart, n2:
// (I(n2) - I(n1)) / (n2 - n1) leaves out what both share (the counting's own start and stop).
export async function countInstructions(
  spec: ServerSpec,
  workloads: Counts[],
): Promise<{ perRequest: number[]; seconds: number; idle: number; warmups: string[] }> {
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
    const counted = async (requests: Req[], n: number): Promise<number> => {
      control(pid, '--zero');
      const t = performance.now();
      await send(port, requests, n);
      return dump(pid) - (idle * (performance.now() - t)) / 1000;
    };
    const perRequest: number[] = [];
    const warmups: string[] = [];
    for (const counts of workloads) {
      if (counts.prime !== undefined) await send(port, counts.prime, counts.prime.length);
      await send(port, counts.requests, counts.warmup);
      warmups.push(await settle(counts, counted));
      const i1 = await counted(counts.requests, counts.n1);
      const i2 = await counted(counts.requests, counts.n2);
      perRequest.push((i2 - i1) / (counts.n2 - counts.n1));
    }
    return { perRequest, seconds: (performance.now() - began) / 1000, idle, warmups };
  } finally {
    await server.stop();
    for (const f of readdirSync(OUT).filter((f) => f.startsWith(`callgrind.out.${pid}`)))
      rmSync(join(OUT, f), { force: true });
  }
}

// Counts windows of `settle` requests after the warm-up until two in a row agree within
// SETTLED; says how many requests the warm-up took, and whether it settled.
async function settle(
  counts: Counts,
  counted: (requests: Req[], n: number) => Promise<number>,
): Promise<string> {
  const { settle: size, warmup } = counts;
  if (size === undefined) return `${warmup}`;
  let previous = NaN;
  for (let i = 1; i <= SETTLE_WINDOWS; i++) {
    const window = (await counted(counts.requests, size)) / size;
    if (Math.abs(window - previous) <= SETTLED * previous) return `${warmup + i * size}`;
    previous = window;
  }
  return `${warmup + SETTLE_WINDOWS * size}, NOT settled`;
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
