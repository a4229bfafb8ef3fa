import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface Sample { rps: number; cpuPerRequest: number; p50: number; p99: number; rss: number }
export interface Row { name: string; baseline: string; samples: Sample[] }

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

// On a shared machine other work only ever slows a round down, so the best round is the
// truest: the most requests a second and the least CPU per request; the spread follows.
const best = (xs: number[], higher: boolean): number => (higher ? Math.max(...xs) : Math.min(...xs));
const spread = (xs: number[], higher: boolean, f: (x: number) => string): string => `${f(best(xs, higher))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

export function formatTable(rows: Row[]): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const lines = [
    '| server | vs | req/s | throughput ratio | CPU µs/req | CPU ratio | p50 ms | p99 ms | RSS MB |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const base = byName.get(row.baseline);
    const rps = row.samples.map((s) => s.rps);
    const cpu = row.samples.map((s) => s.cpuPerRequest * 1e6);
    const ratio = (mine: number[], theirs: number[] | undefined, higher: boolean): string => (theirs === undefined || theirs.length === 0 ? '' : `${(best(mine, higher) / best(theirs, higher)).toFixed(2)}x`);
    lines.push(`| ${row.name} | ${row.baseline === row.name ? '(baseline)' : row.baseline} | ${spread(rps, true, (x) => Math.round(x).toString())} | ${ratio(rps, base?.samples.map((s) => s.rps), true)} | ${spread(cpu, false, (x) => x.toFixed(1))} | ${ratio(cpu, base?.samples.map((s) => s.cpuPerRequest * 1e6), false)} | ${median(row.samples.map((s) => s.p50)).toFixed(1)} | ${median(row.samples.map((s) => s.p99)).toFixed(1)} | ${(Math.max(...row.samples.map((s) => s.rss)) / 2 ** 20).toFixed(0)} |`);
  }
  return lines.join('\n');
}

// bench/RESULTS.md keeps one section per mode between markers, so the soak run and the
// throughput run each rewrite only their own.
export function writeSection(file: string, name: string, body: string): void {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n\nWritten by `npm run bench`; do not edit by hand.\n';
  const block = `${begin}\n${body}\n${end}`;
  const at = text.indexOf(begin);
  text = at === -1 ? `${text.trimEnd()}\n\n${block}\n` : `${text.slice(0, at)}${block}${text.slice(text.indexOf(end) + end.length)}`;
  writeFileSync(file, text);
}
