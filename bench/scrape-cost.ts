// What a scrape of /metrics costs, per server and as the label sets in use grow, in
// instructions (callgrind) and, as context, wall time; and how a request's cost grows with them.
import { cpus } from 'node:os';
import {
  HELLO,
  type Counts,
  REQUEST_COUNTS,
  type Req,
  SCRAPE,
  V8_FLAGS,
  countInstructions,
  inParallel,
  send,
} from './instructions.js';
import { SCRAPE_PAIR as OURS, scrapeVerdict, writeSection } from './report.js';
import { type ServerSpec, peer, start } from './servers.js';

// The environment's scrape interval and the workshop's load: the share a scrape adds.
const INTERVAL_S = 5;
const RATE = 250;

const REQUESTS = (requests: Req[]): Counts => ({ ...REQUEST_COUNTS, requests });
// Not settled again: what is counted is whatever the scrapes left behind.
const AFTER: Counts = {
  requests: [HELLO],
  warmup: 2000,
  n1: REQUEST_COUNTS.n1,
  n2: REQUEST_COUNTS.n2,
};
// Before the scrapes of the growth table, requests cycling through the label sets: enough for
// a few observations in each and a warm request path; they are not counted.
const PRIME = 5000;
// How many scrapes, by label sets. Code that runs once a scrape takes hundreds of scrapes to
// be compiled, and V8 compiles it in the counted windows until then: at 1 and 10 label sets,
// counted from 5 and 25 scrapes after 40, v7 read 0.88 M at 1 and 2.89 M at 10, a later count
// of 10 read 2.59 M from 40 scrapes after 60, and the compiler's own functions were among the
// busiest. A scrape of few label sets is cheap under valgrind, so there: 200 of warm-up,
// windows of 20, and 80 counted. At 100 (about 250 KB a scrape), windows of 2 never agreed (a
// young-generation collection every few scrapes falls in one and not the next): 100, 10 and
// 40. A scrape of 1,000 label sets writes 2.5 MB and takes seconds under valgrind: 6, 2 and 8.
const SCRAPES = (k: number, prime: Req[] = []): Counts => {
  const [warmup, settle] = k < 100 ? [200, 20] : k < 1000 ? [100, 10] : [6, 2];
  return { prime, requests: [SCRAPE], warmup, settle, n1: settle, n2: 5 * settle };
};
export const LABEL_SETS = [1, 10, 100, 1000];

// K label sets as requests: GET, POST, PUT, DELETE and PATCH of /status/200 to /status/399,
// each answered with its status (within fastify's 100 to 599); every server keeps each
// (method, status) apart.
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
export const MAX_LABEL_SETS = METHODS.length * 200;
export function labelSets(k: number): Req[] {
  const all = METHODS.flatMap((method) =>
    Array.from({ length: 200 }, (_, i) => ({
      method,
      path: `/status/${200 + i}`,
      status: 200 + i,
    })),
  );
  return all.slice(0, k);
}

// The rows of the growth table, each with the server of the table above whose request it
// shares (ours there serve only /; here the same metrics.ts wraps an app of many statuses).
// The floor is no instrumentation: it only writes the text.
interface Grower {
  name: string;
  server: string;
  command: string[];
}
const FLOOR = 'floor: a plain loop';
function growers(): Grower[] {
  const wrapped = (wrapper: string) => [...peer('label-sets.ts'), wrapper];
  return [
    { name: OURS.before, server: 'hello-world-v3/app-2', command: wrapped(OURS.before) },
    { name: OURS.after, server: 'hello-world-v7/app-2', command: wrapped(OURS.after) },
    ...[
      ['fastify + prom-client hooks', 'fastify-prom-hook.ts'],
      ['fastify + fastify-metrics', 'fastify-metrics.ts'],
      ['node:http + OpenTelemetry', 'otel.cts'],
      [FLOOR, 'floor.ts'],
    ].map(([name = '', file = '']) => ({ name, server: name, command: peer(file) })),
  ];
}

// Wall time of one scrape, the median of 100 one after another, and its size, in a server
// natively run.
async function scrapeWall(spec: ServerSpec, prime: Req[]): Promise<{ ms: number; bytes: number }> {
  const server = await start(spec, 0);
  try {
    const port = Number(new URL(server.url).port);
    await send(port, prime, Math.max(prime.length, 1000));
    await send(port, [SCRAPE], 30);
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      await send(port, [SCRAPE], 1);
      times.push(performance.now() - t);
    }
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const bytes = (await res.arrayBuffer()).byteLength;
    return { ms: times.sort((a, b) => a - b)[50] ?? NaN, bytes };
  } finally {
    await server.stop();
  }
}

const share = (scrape: number, request: number): string =>
  `${((100 * scrape) / (INTERVAL_S * RATE * request)).toFixed(2)} %`;
const round = (n: number): string => (Number.isNaN(n) ? '' : Math.round(n).toString());

export interface ScrapeCostOptions {
  // The label-set counts of the growth table; given, the per-server table is left out.
  labelSets?: number[] | undefined;
  // Server names (bench/servers.ts): the growth table keeps ours, the floor and these.
  only?: string[] | undefined;
}

export async function scrapeCost(
  chosen: ServerSpec[],
  jobs: number,
  out: string,
  { labelSets: counts, only }: ScrapeCostOptions = {},
): Promise<boolean> {
  const began = performance.now();
  const ks = counts ?? LABEL_SETS;
  const rows = growers().filter(
    (g) =>
      only === undefined ||
      g.name === OURS.before ||
      g.name === OURS.after ||
      g.name === FLOOR ||
      only.includes(g.name),
  );
  const fixtures = ks.flatMap((k) =>
    rows.map((g) => ({
      k,
      grower: g,
      spec: { name: `${g.name} with ${k}`, baseline: '', command: g.command },
    })),
  );
  // Wall times first, one server at a time, before valgrind takes the cores.
  // (A server with no /metrics, the peers' plain baseline, is left out.)
  const wall = new Map<string, { ms: number; bytes: number }>();
  const perServerTable = counts === undefined;
  // The servers of the growth table as they serve one route (and hello-world-v1 beside them).
  const served = new Set(['hello-world-v1', ...rows.map((g) => g.server)]);
  const scraped = perServerTable ? chosen.filter((spec) => served.has(spec.name)) : [];
  for (const spec of scraped)
    await scrapeWall(spec, [HELLO]).then(
      (w) => wall.set(spec.name, w),
      () => undefined,
    );
  for (const f of fixtures) wall.set(f.spec.name, await scrapeWall(f.spec, labelSets(f.k)));
  process.stderr.write('bench: wall times taken; now counting under callgrind\n');

  // A request's count again after the scrapes: whether a scrape leaves anything behind
  // (a deoptimized request path, a larger heap) that requests pay for afterwards.
  const requests = new Map<string, number>();
  const perServer = await inParallel(
    scraped.filter((spec) => wall.has(spec.name)),
    jobs,
    async (spec) => {
      const workloads = [REQUESTS([HELLO]), SCRAPES(1), AFTER];
      const { perRequest, seconds } = await countInstructions(spec, workloads);
      const [request = NaN, scrape = NaN, after = NaN] = perRequest;
      requests.set(spec.name, request);
      process.stdout.write(
        `instructions per scrape: ${spec.name} ${Math.round(scrape)} (a request: ${Math.round(request)}, after the scrapes ${Math.round(after)}; ${seconds.toFixed(0)} s)\n`,
      );
      const w = wall.get(spec.name);
      return `| ${spec.name} | ${Math.round(scrape)} | ${w?.bytes ?? ''} | ${(w?.ms ?? NaN).toFixed(2)} | ${Math.round(request)} | ${Math.round(after)} | ${share(scrape, request)} |`;
    },
  );
  const growth = await inParallel(fixtures, jobs, async (f) => {
    const prime = labelSets(f.k);
    const workloads = [
      {
        ...SCRAPES(f.k),
        prime: Array.from({ length: PRIME }, (_, i) => prime[i % prime.length] as Req),
      },
    ];
    const { perRequest, seconds, warmups } = await countInstructions(f.spec, workloads);
    const scrape = perRequest[0] ?? NaN;
    process.stdout.write(`scrape: ${f.grower.name} ${f.k} ${Math.round(scrape)}\n`);
    process.stderr.write(
      `  (${f.spec.name} label sets: warm-up ${warmups[0]} scrapes; ${seconds.toFixed(0)} s under valgrind)\n`,
    );
    return { k: f.k, name: f.grower.name, server: f.grower.server, scrape };
  });
  const verdict = scrapeVerdict(growth);
  for (const line of verdict.lines) process.stdout.write(`${line}\n`);

  const growthRows = growth.map((g) => {
    const v3 = growth.find((b) => b.name === OURS.before && b.k === g.k)?.scrape ?? NaN;
    const w = wall.get(`${g.name} with ${g.k}`);
    const request = requests.get(g.server);
    const cells = [
      g.k,
      g.name,
      round(g.scrape),
      `${(g.scrape / v3).toFixed(3)}x`,
      w?.bytes ?? '',
      w === undefined ? '' : w.ms.toFixed(2),
      request === undefined ? '' : share(g.scrape, request),
    ];
    return `| ${cells.join(' | ')} |`;
  });

  const minutes = ((performance.now() - began) / 60_000).toFixed(0);
  const machine = `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; Node ${process.version}; valgrind's callgrind; ${new Date().toISOString().slice(0, 10)}; ${minutes} minutes.`;
  const r = REQUEST_COUNTS;
  const [small, middle, large] = [SCRAPES(1), SCRAPES(100), SCRAPES(1000)];
  const rerun = [
    counts === undefined ? '' : ` --label-sets ${ks.join(',')}`,
    only === undefined ? '' : ` --only ${only.join(',')}`,
  ].join('');
  const perServerSection = [
    '| server | instructions/scrape | bytes/scrape | wall ms/scrape | instructions/request | the same after the scrapes | scrape share at 5 s, 250 req/s |',
    '|---|---|---|---|---|---|---|',
    ...perServer,
    '',
  ];
  const body = [
    '## What a scrape costs',
    '',
    machine,
    `Instructions counted as in the table above (\`node ${V8_FLAGS.join(' ')}\` under callgrind): a request from ${r.n1} and ${r.n2} requests after a warm-up settled as there,`,
    `a scrape of /metrics from ${small.n1} and ${small.n2} scrapes after ${small.warmup} and windows of ${small.settle} until two agreed within 1 %, then a request again after those scrapes (${AFTER.warmup} of warm-up).`,
    `Wall time and bytes: the median of 100 scrapes one after another, the server run natively, before anything else ran under valgrind (context only: wall time moves with the machine). The share: a scrape every ${INTERVAL_S} s against ${RATE} requests a second, in instructions.`,
    '',
    `Rerun: \`npm run bench -- --scrape-cost${rerun}\``,
    '',
    ...(perServerTable ? perServerSection : []),
    '### As label sets grow',
    '',
    `Each server answers GET, POST, PUT, DELETE and PATCH /status/NNN with status NNN, and is sent ${PRIME} requests cycling through ${ks.join(', ')} label sets (method × status), which every instrumentation keeps apart;`,
    `then a scrape is counted from ${small.n1} and ${small.n2} scrapes after ${small.warmup} and windows of ${small.settle} until two in a row agreed within 1 % (from ${middle.n1} and ${middle.n2} after ${middle.warmup} and windows of ${middle.settle} at 100 label sets, about 250 KB a scrape, from ${large.n1} and ${large.n2} after ${large.warmup} and windows of ${large.settle} at 1,000, 2.5 MB).`,
    "hello-world-v3 and -v7: that step's metrics.ts around the app in the launcher's own server (bench/peers/label-sets.ts); the peers as in the table above, with a /status/:code route.",
    `The floor (bench/peers/floor.ts): node:http and nothing else, writing the lines v7 writes for its request metrics (no process metrics) into one buffer, each piece copied in whole and each count written digit by digit, and sending those bytes: what it takes to write the text.`,
    '"vs v3": against hello-world-v3 at as many label sets. The share: against the instructions of a request of the same server in the table above.',
    '',
    '| label sets | server | instructions/scrape | vs v3 | bytes/scrape | wall ms/scrape | scrape share at 5 s, 250 req/s |',
    '|---|---|---|---|---|---|---|',
    ...growthRows,
    '',
    verdict.text,
  ].join('\n');
  writeSection(out, 'scrape-cost', body);
  process.stdout.write(`${body}\nwritten to ${out}\n`);
  return verdict.ok;
}
