// npm run bench [-- --rounds 3 --warmup 3 --duration 8 --connections 32 --only NAME,...]
// npm run bench -- --soak [--minutes 10]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { type Running, build, pinned, specs, start, cpuSeconds, rssBytes, ROOT } from './servers.js';
import { writeSection, formatTable, type Row } from './report.js';
import { soak } from './soak.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '3' },
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
    soak: { type: 'boolean', default: false },
    minutes: { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench/RESULTS.md' },
  },
});

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`bench: --${name} must be a positive number, not "${text}"\n`);
    process.exit(2);
  }
  return n;
}

interface LoadResult { requests: number; rps: number; p50: number; p99: number; errors: number; non2xx: number }

async function load(url: string, seconds: number, connections: number): Promise<LoadResult> {
  const [command = '', ...args] = pinned(1, [process.execPath, '--import', 'tsx', 'bench/load.ts', url, String(seconds), String(connections)]);
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await once(child, 'exit');
  return JSON.parse(out) as LoadResult;
}

async function measure(server: Running, warmup: number, duration: number, connections: number) {
  await load(server.url, warmup, connections);
  const cpu0 = cpuSeconds(server.pid);
  const result = await load(server.url, duration, connections);
  const cpu = cpuSeconds(server.pid) - cpu0;
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`${server.spec.name}: ${result.errors} errors, ${result.non2xx} non-2xx`);
  return { rps: result.rps, cpuPerRequest: cpu / result.requests, p50: result.p50, p99: result.p99, rss: rssBytes(server.pid) };
}

build();
if (values.soak) {
  await soak(positive('minutes', values.minutes), values.out);
  process.exit(); // with the soak's verdict: 1 when memory or series were not flat
}

const rounds = positive('rounds', values.rounds);
const warmup = positive('warmup', values.warmup);
const duration = positive('duration', values.duration);
const connections = positive('connections', values.connections);
const only = values.only?.split(',');
const chosen = specs().filter((s) => only === undefined || only.includes(s.name) || s.name === s.baseline);
const servers: Running[] = [];
for (const spec of chosen) servers.push(await start(spec, 0));
process.stderr.write(`bench: ${servers.length} servers, ${rounds} rounds of ${warmup} s warm-up + ${duration} s load, ${connections} connections\n`);

const samples = new Map<string, Awaited<ReturnType<typeof measure>>[]>();
try {
  for (let round = 0; round < rounds; round++) {
    // Each round in another order, so no server always follows the same neighbour.
    const order = servers.map((_, i) => servers[(i + round) % servers.length] as Running);
    for (const server of order) {
      const sample = await measure(server, warmup, duration, connections);
      samples.set(server.spec.name, [...(samples.get(server.spec.name) ?? []), sample]);
      process.stderr.write(`  round ${round + 1} ${server.spec.name}: ${Math.round(sample.rps)} req/s, ${(sample.cpuPerRequest * 1e6).toFixed(1)} µs CPU/req\n`);
    }
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}

const rows: Row[] = chosen.map((spec) => ({ name: spec.name, baseline: spec.baseline, samples: samples.get(spec.name) ?? [] }));
const header = [
  `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}.`,
  `Each server alone under autocannon (${connections} connections, ${duration} s after ${warmup} s of warm-up), ${rounds} interleaved rounds;`,
  'server pinned to CPU 0 and load generator to CPU 1 where `taskset` and two cores allow.',
  'req/s and CPU are the best round (other work on a shared machine only slows a round), (min–max) the spread of all rounds;',
  'p50, p99 are medians, RSS the largest. Ratios compare best rounds, to the row named in "vs".',
  '',
  `Rerun: \`npm run bench -- --rounds ${rounds} --warmup ${warmup} --duration ${duration} --connections ${connections}\``,
].join('\n');
writeSection(values.out, 'throughput', `## Throughput and CPU per request\n\n${header}\n\n${formatTable(rows)}`);
process.stdout.write(`${formatTable(rows)}\nwritten to ${values.out}\n`);
