// What a scrape of /metrics costs, per server and as the label sets in use grow, in
// instructions (callgrind) and, as context, wall time; and how a request's cost grows with them.
import { cpus } from 'node:os';
import {
  HELLO,
  type Counts,
  type Req,
  SCRAPE,
  V8_FLAGS,
  countInstructions,
  inParallel,
  send,
} from './instructions.js';
import { writeSection } from './report.js';
import { type ServerSpec, peer, start } from './servers.js';

// The environment's scrape interval and the workshop's load: the share a scrape adds.
const INTERVAL_S = 5;
const RATE = 250;

const REQUESTS = (requests: Req[]): Counts => ({ requests, warmup: 5000, n1: 1000, n2: 5000 });
const SCRAPES: Counts = { requests: [SCRAPE], warmup: 40, n1: 5, n2: 20 };
export const LABEL_SETS = [1, 10, 100, 1000];
const WRAPPERS = ['none', 'hello-world-v3', 'hello-world-v7'];

// K label sets as requests: GET, then POST, of /status/200 to /status/999, each answered with
// its status; the wrapper labels each (method, route, status) apart.
export function labelSets(k: number): Req[] {
  const all = ['GET', 'POST'].flatMap((method) =>
    Array.from({ length: 800 }, (_, i) => ({
      method,
      path: `/status/${200 + i}`,
      status: 200 + i,
    })),
  );
  return all.slice(0, k);
}

// Wall time of one scrape, the median of 100 one after another, in a server natively run.
async function scrapeMilliseconds(spec: ServerSpec, prime: Req[]): Promise<number> {
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
    return times.sort((a, b) => a - b)[50] ?? NaN;
  } finally {
    await server.stop();
  }
}

const share = (scrape: number, request: number): string =>
  `${((100 * scrape) / (INTERVAL_S * RATE * request)).toFixed(2)} %`;

export async function scrapeCost(chosen: ServerSpec[], jobs: number, out: string): Promise<void> {
  const began = performance.now();
  // Unwrapped, the app's cost does not depend on the label sets: it is counted once, at 1,000.
  const fixtures = LABEL_SETS.flatMap((k) =>
    WRAPPERS.filter((w) => w !== 'none' || k === LABEL_SETS.at(-1)).map((wrapper) => ({
      k,
      wrapper,
      spec: {
        name: `${wrapper} with ${k}`,
        baseline: '',
        command: [...peer('label-sets.ts'), wrapper],
      },
    })),
  );
  // Wall times first, one server at a time, before valgrind takes the cores.
  // (A server with no /metrics, the peers' plain baseline, is left out.)
  const wall = new Map<string, number>();
  for (const spec of chosen)
    await scrapeMilliseconds(spec, [HELLO]).then(
      (ms) => wall.set(spec.name, ms),
      () => undefined,
    );
  const scraped = chosen.filter((spec) => wall.has(spec.name));
  for (const f of fixtures.filter((f) => f.wrapper !== 'none'))
    wall.set(f.spec.name, await scrapeMilliseconds(f.spec, labelSets(f.k)));
  process.stderr.write('bench: wall times taken; now counting under callgrind\n');

  // A request's count again after the scrapes: whether a scrape leaves anything behind
  // (a deoptimized request path, a larger heap) that requests pay for afterwards.
  const perServer = await inParallel(scraped, jobs, async (spec) => {
    const workloads = [REQUESTS([HELLO]), SCRAPES, REQUESTS([HELLO])];
    const { perRequest, seconds } = await countInstructions(spec, workloads);
    const [request = NaN, scrape = NaN, after = NaN] = perRequest;
    process.stdout.write(
      `instructions per scrape: ${spec.name} ${Math.round(scrape)} (a request: ${Math.round(request)}, after the scrapes ${Math.round(after)}; ${seconds.toFixed(0)} s)\n`,
    );
    return `| ${spec.name} | ${Math.round(scrape)} | ${(wall.get(spec.name) ?? NaN).toFixed(2)} | ${Math.round(request)} | ${Math.round(after)} | ${share(scrape, request)} |`;
  });
  const growth = await inParallel(fixtures, jobs, async (f) => {
    const workloads = [REQUESTS(labelSets(f.k)), ...(f.wrapper === 'none' ? [] : [SCRAPES])];
    const { perRequest, seconds } = await countInstructions(f.spec, workloads);
    process.stdout.write(
      `label sets ${f.k}, ${f.wrapper}: ${perRequest.map(Math.round).join(' a request, ')} a scrape (${seconds.toFixed(0)} s)\n`,
    );
    return { ...f, request: perRequest[0] ?? NaN, scrape: perRequest[1] ?? NaN };
  });
  const growthRows = growth.map((g) => {
    const none = growth.find((n) => n.wrapper === 'none')?.request ?? NaN;
    const scrape = g.wrapper === 'none' ? '' : Math.round(g.scrape).toString();
    return `| ${g.k} | ${g.wrapper} | ${Math.round(g.request)} | ${(g.request / none).toFixed(3)}x | ${scrape} | ${g.wrapper === 'none' ? '' : (wall.get(g.spec.name) ?? NaN).toFixed(2)} | ${g.wrapper === 'none' ? '' : share(g.scrape, g.request)} |`;
  });

  const minutes = ((performance.now() - began) / 60_000).toFixed(0);
  const machine = `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; Node ${process.version}; valgrind's callgrind; ${new Date().toISOString().slice(0, 10)}; ${minutes} minutes.`;
  const body = [
    '## What a scrape costs',
    '',
    machine,
    `Instructions counted as in the table above (\`node ${V8_FLAGS.join(' ')}\` under callgrind), each server after ${REQUESTS([]).warmup} requests and ${SCRAPES.warmup} scrapes of warm-up:`,
    `a request from ${REQUESTS([]).n1} and ${REQUESTS([]).n2} requests, a scrape from ${SCRAPES.n1} and ${SCRAPES.n2} scrapes of /metrics, then a request again after those scrapes.`,
    `Wall time: the median of 100 scrapes one after another, the server run natively, before anything else ran under valgrind (context only: it moves with the machine). The share: a scrape every ${INTERVAL_S} s against ${RATE} requests a second, in instructions.`,
    '',
    `Rerun: \`npm run bench -- --scrape-cost\``,
    '',
    '| server | instructions/scrape | wall ms/scrape | instructions/request | the same after the scrapes | scrape share at 5 s, 250 req/s |',
    '|---|---|---|---|---|---|',
    ...perServer,
    '',
    '### As label sets grow',
    '',
    `A server (bench/peers/label-sets.ts, the launcher's own server) whose app answers GET and POST /status/NNN with status NNN, wrapped by a step's metrics.ts or by none;`,
    `its requests cycle through ${LABEL_SETS.join(', ')} label sets (method × status), which the wrappers each keep apart. "vs none": to the same app unwrapped (counted once, at 1,000 label sets: unwrapped, it keeps none apart).`,
    'The scrape is of a registry holding that many label sets of the duration histogram (24 series each) and of the counter.',
    '',
    '| label sets | wrapper | instructions/request | vs none | instructions/scrape | wall ms/scrape | scrape share at 5 s, 250 req/s |',
    '|---|---|---|---|---|---|---|',
    ...growthRows,
  ].join('\n');
  writeSection(out, 'scrape-cost', body);
  process.stdout.write(`${body}\nwritten to ${out}\n`);
}
