// npm run bench [-- --pairs 8 --warmup 2 --duration 3 --connections 32 --only NAME,...]
// npm run bench -- --soak [--minutes 10]
// npm run bench -- --instructions [--jobs 2 --only NAME,...]
// npm run bench -- --scrape-cost [--jobs 2 --only NAME,... --label-sets 1,10,100,1000]
//   (--label-sets: only the growth table, at those counts; --only: ours, the floor and the peers named)
// npm run bench -- --portal [--seconds 60]
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { specs } from './servers.js';
import { build } from '../harness/servers.js';
import { writeSection, type Counted, formatInstructions, instructionsVerdict } from './report.js';
import { type PairedRow, formatPaired, paired, pairedVerdict } from './paired.js';
import { REQUEST_COUNTS, V8_FLAGS, countInstructions, inParallel } from './instructions.js';
import { soak } from './soak.js';
import { MAX_LABEL_SETS, scrapeCost } from './scrape-cost.js';
import { portalSoak } from './portal.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    duration: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
    soak: { type: 'boolean', default: false },
    instructions: { type: 'boolean', default: false },
    'scrape-cost': { type: 'boolean', default: false },
    'label-sets': { type: 'string' },
    portal: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '60' },
    jobs: { type: 'string', default: '2' },
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

// Every setting is checked before anything is built or started.
const minutes = positive('minutes', values.minutes);
const seconds = positive('seconds', values.seconds);
const pairs = positive('pairs', values.pairs);
const warmup = positive('warmup', values.warmup);
const duration = positive('duration', values.duration);
const connections = positive('connections', values.connections);
const jobs = positive('jobs', values.jobs);
const only = values.only?.split(',');
const labelSets = values['label-sets']?.split(',').map((k) => positive('label-sets', k));
if (labelSets?.some((k) => !Number.isInteger(k) || k > MAX_LABEL_SETS)) {
  process.stderr.write(`bench: --label-sets takes whole numbers up to ${MAX_LABEL_SETS}\n`);
  process.exit(2);
}
const all = specs();
const unknown = (only ?? []).filter((name) => !all.some((s) => s.name === name));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: no server named ${unknown.map((n) => `"${n}"`).join(', ')}; choose from: ${all.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}
// The servers named, and the baselines they are measured against.
const named = all.filter((s) => only === undefined || only.includes(s.name));
const chosen = all.filter((s) => named.includes(s) || named.some((n) => n.baseline === s.name));

if (values.portal) {
  // The portal runs under tsx, as from a checkout: nothing to build.
  const ok = await portalSoak(seconds, values.out);
  process.exit(ok ? 0 : 1);
}
build();
if (values['scrape-cost']) {
  const met = await scrapeCost(chosen, jobs, values.out, { labelSets, only });
  process.exit(met ? 0 : 1); // 1 when the scrape's aim is not met
}
if (values.instructions) {
  await instructionsTable();
  process.exit(); // 1 when the verdict's aim is not met
}
if (values.soak) {
  await soak(minutes, values.out);
  process.exit(); // with the soak's verdict: 1 when memory or series were not flat
}
process.stderr.write(
  `bench: ${chosen.length} servers, each beside its baseline in ${pairs} pairs of ${duration} s slices after ${warmup} s of warm-up, ${connections} connections\n`,
);
const rows: PairedRow[] = [];
for (const spec of chosen.filter((s) => s.name !== s.baseline)) {
  const base = all.find((s) => s.name === spec.baseline);
  if (base === undefined) throw new Error(`${spec.name}: no baseline ${spec.baseline}`);
  const row = await paired(base, spec, pairs, duration, warmup, connections);
  rows.push(row);
  process.stderr.write(
    `  ${spec.name}: throughput ratios ${row.throughput.map((r) => r.toFixed(2)).join(' ')}\n`,
  );
}
const standing = pairedVerdict(rows);
const header = [
  `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; load average ${loadavg()[1]?.toFixed(1)} at the end (over 5 minutes; above the cores, other work shared them).`,
  `Each server beside its baseline (the row named in "vs"), both compiled and pinned to CPU 0, autocannon on CPU 1 (${connections} connections) where \`taskset\` and two cores allow;`,
  `after ${warmup} s of warm-up each, ${pairs} pairs of ${duration} s slices in alternating order (A B, B A, ...), a ratio taken within each pair; nothing scrapes /metrics meanwhile.`,
  'Ratios are the median of the pairs; "interval" is where the median lies with the confidence shown (between order statistics of the pairs, no assumption of a distribution).',
  'CPU per request is from /proc. "core": the share of a core the server used, the median of its slices (near 1.00: the load saturated it).',
  "Wall-clock ratios move with the machine even so: on a shared machine the verdict is the instructions table's.",
  '',
  `Rerun: \`npm run bench -- --pairs ${pairs} --warmup ${warmup} --duration ${duration} --connections ${connections}\``,
].join('\n');
writeSection(
  values.out,
  'throughput',
  `## Throughput and CPU per request, paired rounds\n\n${header}\n\n${formatPaired(rows)}\n\n${standing}`,
);
process.stdout.write(`${formatPaired(rows)}\n\n${standing}\nwritten to ${values.out}\n`);

// Each server under callgrind in turn, `jobs` at a time: the counts do not depend on what
// else runs, so two servers can share the machine's two cores.
async function instructionsTable(): Promise<void> {
  const c = REQUEST_COUNTS;
  process.stderr.write(
    `bench: instructions per request of ${chosen.length} servers under callgrind, ${jobs} at a time: ${c.warmup} requests of warm-up and windows of ${c.settle} until settled, then ${c.n1} and ${c.n2} counted\n`,
  );
  const began = performance.now();
  const counted = new Map<string, number>();
  const warmups = new Map<string, string>();
  await inParallel(chosen, jobs, async (spec) => {
    const {
      perRequest,
      seconds,
      idle,
      warmups: [warm = ''],
    } = await countInstructions(spec, [REQUEST_COUNTS]);
    counted.set(spec.name, perRequest[0] ?? NaN);
    warmups.set(spec.name, warm);
    process.stdout.write(
      `instructions per request: ${spec.name} ${Math.round(perRequest[0] ?? NaN)}\n`,
    );
    process.stderr.write(
      `  (${spec.name}: warm-up ${warm} requests; ${seconds.toFixed(0)} s under valgrind; idle, ${Math.round(idle)} instructions a second)\n`,
    );
  });
  // The first server counted again, last, in a process of its own: how far apart two counts of
  // the same server come in one run, whatever else ran meanwhile.
  const [first] = chosen;
  let repeated = '';
  if (first !== undefined) {
    const again = (await countInstructions(first, [REQUEST_COUNTS])).perRequest[0] ?? NaN;
    const once = counted.get(first.name) ?? NaN;
    const apart = (100 * Math.abs(again - once)) / once;
    process.stdout.write(`instructions per request, again: ${first.name} ${Math.round(again)}\n`);
    repeated = `${first.name}, counted again at the end of the run in a new process, ${Math.round(once).toLocaleString('en')} and ${Math.round(again).toLocaleString('en')} a request (${apart.toFixed(2)} % apart).`;
  }
  const rows: Counted[] = chosen.map((spec) => ({
    name: spec.name,
    baseline: spec.baseline,
    perRequest: counted.get(spec.name) ?? NaN,
    recommended: spec.recommended === true,
    peer: !spec.name.startsWith('hello-world-'),
  }));
  for (const row of rows.filter((r) => r.name !== r.baseline)) {
    const base = counted.get(row.baseline) ?? NaN;
    process.stdout.write(
      `instructions ratio: ${row.name} ${(row.perRequest / base).toFixed(3)}x ${row.baseline}\n`,
    );
  }
  const standing = instructionsVerdict(rows);
  const minutesTaken = (performance.now() - began) / 60_000;
  const rerun = only === undefined ? '' : ` --only ${only.join(',')}`;
  const header = [
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; Node ${process.version}; valgrind's callgrind; ${new Date().toISOString().slice(0, 10)}; ${minutesTaken.toFixed(0)} minutes.`,
    `Each server compiled, under \`valgrind --tool=callgrind node ${V8_FLAGS.join(' ')}\`, sent ${c.warmup} requests of warm-up, then windows of ${c.settle}, each counted, until two in a row agreed within 1 %`,
    `(V8 compiles until a point that moves with the run: here after ${chosen.map((s) => warmups.get(s.name)).join(', ')} requests, in the order of the table), then ${c.n1} and, apart, ${c.n2},`,
    'one at a time on one keep-alive connection from outside valgrind; instructions per request are the difference of the two counts over the difference of the requests,',
    'less what the server runs a second while idle times the seconds each count took, so start-up, warm-up and clock-driven timers cancel.',
    `Other work on the machine does not enter the count (this run ended at a load average of ${loadavg()[1]?.toFixed(1)} on ${cpus().length} cores): ${repeated}`,
    '',
    `Rerun: \`npm run bench -- --instructions${rerun}\``,
  ].join('\n');
  const table = formatInstructions(rows);
  writeSection(
    values.out,
    'instructions',
    `## Instructions per request (the verdict)\n\n${header}\n\n${table}\n\n${standing.text}`,
  );
  process.stdout.write(`${table}\n\n${standing.text}\nwritten to ${values.out}\n`);
  if (!standing.ok) process.exitCode = 1;
}
