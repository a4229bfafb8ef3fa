import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface Sample { rps: number; cpuPerRequest: number; p50: number; p99: number; rss: number }
export interface Row { name: string; baseline: string; samples: Sample[] }

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

const spread = (xs: number[], f: (x: number) => string): string => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

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
    const ratio = (mine: number[], theirs: number[] | undefined): string => (theirs === undefined || theirs.length === 0 ? '' : `${(median(mine) / median(theirs)).toFixed(2)}x`);
    lines.push(`| ${row.name} | ${row.baseline === row.name ? '(baseline)' : row.baseline} | ${spread(rps, (x) => Math.round(x).toString())} | ${ratio(rps, base?.samples.map((s) => s.rps))} | ${spread(cpu, (x) => x.toFixed(1))} | ${ratio(cpu, base?.samples.map((s) => s.cpuPerRequest * 1e6))} | ${median(row.samples.map((s) => s.p50)).toFixed(1)} | ${median(row.samples.map((s) => s.p99)).toFixed(1)} | ${(Math.max(...row.samples.map((s) => s.rss)) / 2 ** 20).toFixed(0)} |`);
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
