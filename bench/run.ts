// npm run bench [-- --rounds 3 --warmup 3 --duration 8 --connections 32 --only NAME,...]
// npm run bench -- --soak [--minutes 10]
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { type Running, type ServerSpec, load, specs, start } from './servers.js';
import { build, cpuSeconds, rssBytes } from '../harness/servers.js';
import { writeSection, formatTable, verdict, type Row } from './report.js';
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

async function measure(server: Running, warmup: number, duration: number, connections: number) {
  await load(server.url, warmup, connections);
  const cpu0 = cpuSeconds(server.pid);
  const result = await load(server.url, duration, connections);
  const cpu = cpuSeconds(server.pid) - cpu0;
  if (result.errors > 0 || result.non2xx > 0)
    throw new Error(`${server.spec.name}: ${result.errors} errors, ${result.non2xx} non-2xx`);
  // The share of a core the server used: near 1 when the load saturated it, and only then do
  // requests per second measure the server rather than the load generator.
  const busy = cpu / duration;
  return {
    rps: result.rps,
    cpuPerRequest: cpu / result.requests,
    busy,
    p50: result.p50,
    p99: result.p99,
    rss: rssBytes(server.pid),
  };
}

// Every setting is checked before anything is built or started.
const minutes = positive('minutes', values.minutes);
const rounds = positive('rounds', values.rounds);
const warmup = positive('warmup', values.warmup);
const duration = positive('duration', values.duration);
const connections = positive('connections', values.connections);
const only = values.only?.split(',');
const all = specs();
const unknown = (only ?? []).filter((name) => !all.some((s) => s.name === name));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: no server named ${unknown.map((n) => `"${n}"`).join(', ')}; choose from: ${all.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}
const chosen = all.filter(
  (s) => only === undefined || only.includes(s.name) || s.name === s.baseline,
);

build();
if (values.soak) {
  await soak(minutes, values.out);
  process.exit(); // with the soak's verdict: 1 when memory or series were not flat
}
process.stderr.write(
  `bench: ${chosen.length} servers, ${rounds} rounds of ${warmup} s warm-up + ${duration} s load, ${connections} connections\n`,
);

const samples = new Map<string, Awaited<ReturnType<typeof measure>>[]>();
for (let round = 0; round < rounds; round++) {
  // Each round in another order, so no server always follows the same neighbour.
  const order = chosen.map((_, i) => chosen[(i + round) % chosen.length] as ServerSpec);
  for (const spec of order) {
    // A fresh process for each measurement, alone on its core: no idle neighbour's timers,
    // and no state one round leaves for the next.
    const server = await start(spec, 0);
    try {
      const sample = await measure(server, warmup, duration, connections);
      samples.set(spec.name, [...(samples.get(spec.name) ?? []), sample]);
      process.stderr.write(
        `  round ${round + 1} ${spec.name}: ${Math.round(sample.rps)} req/s, ${(sample.cpuPerRequest * 1e6).toFixed(1)} µs CPU/req, ${sample.busy.toFixed(2)} of a core\n`,
      );
    } finally {
      await server.stop();
    }
  }
}

const rows: Row[] = chosen.map((spec) => ({
  name: spec.name,
  baseline: spec.baseline,
  samples: samples.get(spec.name) ?? [],
  recommended: spec.recommended === true,
  peer: !spec.name.startsWith('hello-world-'),
}));
const standing = verdict(rows);
const header = [
  `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}.`,
  `Each server alone, in a fresh process, under autocannon (${connections} connections, ${duration} s after ${warmup} s of warm-up), ${rounds} interleaved rounds;`,
  'server pinned to CPU 0 and load generator to CPU 1 where `taskset` and two cores allow; nothing scrapes /metrics meanwhile.',
  'req/s and CPU are the best round (other work on a shared machine only slows a round), (min–max) the spread of all rounds;',
  'p50, p99 are medians (autocannon reports whole milliseconds), RSS the largest. Ratios compare best rounds, to the row named in "vs".',
  '"core" is the share of one core the server used in its best round: near 1.00 the load saturated it, and its requests per second are its own limit.',
  '',
  `Rerun: \`npm run bench -- --rounds ${rounds} --warmup ${warmup} --duration ${duration} --connections ${connections}\``,
].join('\n');
writeSection(
  values.out,
  'throughput',
  `## Throughput and CPU per request\n\n${header}\n\n${formatTable(rows)}\n\n${standing.text}`,
);
process.stdout.write(`${formatTable(rows)}\n\n${standing.text}\nwritten to ${values.out}\n`);
