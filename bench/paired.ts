// Wall-clock ratios from paired, alternating short rounds (A, B, B, A, ...): a server and its
// baseline run side by side and take turns under the same load, and each pair's ratio is taken
// seconds apart, so a machine that speeds up or slows down over minutes moves both alike.
import { type LoadResult, type ServerSpec, load, start } from './servers.js';
import { cpuSeconds } from '../harness/servers.js';
import { median } from './report.js';

export interface Slice {
  rps: number;
  cpuPerRequest: number;
  busy: number;
}

export interface PairedRow {
  name: string;
  baseline: string;
  recommended?: boolean;
  peer?: boolean;
  // Per pair: this server's requests a second over its baseline's, and its CPU per request
  // over its baseline's.
  throughput: number[];
  cpu: number[];
  busy: number;
}

async function slice(url: string, pid: number, seconds: number, connections: number) {
  const cpu0 = cpuSeconds(pid);
  const result: LoadResult = await load(url, seconds, connections);
  const cpu = cpuSeconds(pid) - cpu0;
  if (result.errors > 0 || result.non2xx > 0)
    throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx`);
  return { rps: result.rps, cpuPerRequest: cpu / result.requests, busy: cpu / seconds };
}

// Both servers stay up (pinned to CPU 0; the one not loaded sits idle), warmed up once, then
// `pairs` pairs of `seconds`-long slices, the order flipping each pair: A B, B A, A B, ...
export async function paired(
  a: ServerSpec,
  b: ServerSpec,
  pairs: number,
  seconds: number,
  warmup: number,
  connections: number,
): Promise<PairedRow> {
  const servers = [await start(a, 0), await start(b, 0)] as const;
  try {
    for (const s of servers) await load(s.url, warmup, connections);
    const throughput: number[] = [];
    const cpu: number[] = [];
    const busy: number[] = [];
    for (let p = 0; p < pairs; p++) {
      const order = p % 2 === 0 ? [0, 1] : [1, 0];
      const got: Slice[] = [];
      for (const i of order) {
        const s = servers[i as 0 | 1];
        got[i] = await slice(s.url, s.pid, seconds, connections);
      }
      const [sa, sb] = got as [Slice, Slice];
      throughput.push(sb.rps / sa.rps);
      cpu.push(sb.cpuPerRequest / sa.cpuPerRequest);
      busy.push(sb.busy);
    }
    return {
      name: b.name,
      baseline: a.name,
      recommended: b.recommended === true,
      peer: !b.name.startsWith('hello-world-'),
      throughput,
      cpu,
      busy: median(busy),
    };
  } finally {
    for (const s of servers) await s.stop();
  }
}

// A distribution-free confidence interval for the median of n ratios: between the k-th
// smallest and the k-th largest, where k is the largest with at least 90 % coverage
// (binomial, p = 1/2). With 8 pairs: the 2nd to the 7th, 93 %.
export function medianInterval(xs: number[]): { lo: number; hi: number; confidence: number } {
  const s = [...xs].sort((x, y) => x - y);
  const n = s.length;
  const choose = (n: number, k: number): number => {
    let c = 1;
    for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
    return c;
  };
  let k = 0;
  let confidence = 0;
  for (let j = 1; j <= Math.floor(n / 2); j++) {
    let tail = 0;
    for (let i = 0; i < j; i++) tail += choose(n, i) / 2 ** n;
    const coverage = 1 - 2 * tail;
    if (coverage < 0.9) break;
    k = j;
    confidence = coverage;
  }
  if (k === 0) return { lo: s[0] ?? NaN, hi: s[n - 1] ?? NaN, confidence: 1 - 2 / 2 ** n };
  return { lo: s[k - 1] ?? NaN, hi: s[n - k] ?? NaN, confidence };
}

const pct = (c: number): string => `${Math.floor(c * 100)} %`;

export function formatPaired(rows: PairedRow[]): string {
  const lines = [
    '| server | vs | pairs | throughput ratio | interval | CPU/request ratio | interval | core |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const t = medianInterval(row.throughput);
    const c = medianInterval(row.cpu);
    lines.push(
      `| ${row.name} | ${row.baseline} | ${row.throughput.length} | ${median(row.throughput).toFixed(2)}x | ${t.lo.toFixed(2)}–${t.hi.toFixed(2)} (${pct(t.confidence)}) | ${median(row.cpu).toFixed(2)}x | ${c.lo.toFixed(2)}–${c.hi.toFixed(2)} (${pct(c.confidence)}) | ${row.busy.toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

// How the recommended instrumentation stands in wall-clock terms: its median throughput ratio
// against the aim of 0.95x, decided only when the whole interval lies on one side of it.
export function pairedVerdict(rows: PairedRow[], aim = 0.95): string {
  const mine = rows.find((r) => r.recommended === true);
  if (mine === undefined) return 'The recommended instrumentation was not measured in this run.';
  const { lo, hi, confidence } = medianInterval(mine.throughput);
  const where = `${mine.name} at ${median(mine.throughput).toFixed(2)}x of ${mine.baseline}'s throughput, ${lo.toFixed(2)}–${hi.toFixed(2)} with ${pct(confidence)} confidence (aim: at least ${aim}x)`;
  if (lo >= aim) return `Wall clock: ${where}: met.`;
  if (hi < aim) return `Wall clock: ${where}: NOT met.`;
  return `Wall clock: ${where}: not decided, the interval straddles the aim; the instructions table decides.`;
}
