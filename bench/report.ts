import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface Sample {
  rps: number;
  cpuPerRequest: number;
  busy: number;
  p50: number;
  p99: number;
  rss: number;
}
export interface Row {
  name: string;
  baseline: string;
  samples: Sample[];
  recommended?: boolean;
  peer?: boolean;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

// On a shared machine other work only ever slows a round down, so the best round is the
// truest: the most requests a second and the least CPU per request; the spread follows.
const best = (xs: number[], higher: boolean): number =>
  higher ? Math.max(...xs) : Math.min(...xs);
const spread = (xs: number[], higher: boolean, f: (x: number) => string): string =>
  `${f(best(xs, higher))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

export function formatTable(rows: Row[]): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const lines = [
    '| server | vs | req/s | throughput ratio | core | CPU µs/req | CPU ratio | p50 ms | p99 ms | RSS MB |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const base = byName.get(row.baseline);
    const rps = row.samples.map((s) => s.rps);
    const cpu = row.samples.map((s) => s.cpuPerRequest * 1e6);
    const bestRound = row.samples.reduce<Sample | undefined>(
      (a, b) => (a === undefined || b.rps > a.rps ? b : a),
      undefined,
    );
    const ms = (x: number): string => (x < 1 ? '<1' : x.toFixed(0));
    const ratio = (mine: number[], theirs: number[] | undefined, higher: boolean): string =>
      theirs === undefined || theirs.length === 0
        ? ''
        : `${(best(mine, higher) / best(theirs, higher)).toFixed(2)}x`;
    lines.push(
      `| ${row.name} | ${row.baseline === row.name ? '(baseline)' : row.baseline} | ${spread(rps, true, (x) => Math.round(x).toString())} | ${ratio(
        rps,
        base?.samples.map((s) => s.rps),
        true,
      )} | ${(bestRound?.busy ?? NaN).toFixed(2)} | ${spread(cpu, false, (x) => x.toFixed(1))} | ${ratio(
        cpu,
        base?.samples.map((s) => s.cpuPerRequest * 1e6),
        false,
      )} | ${ms(median(row.samples.map((s) => s.p50)))} | ${ms(median(row.samples.map((s) => s.p99)))} | ${(Math.max(...row.samples.map((s) => s.rss)) / 2 ** 20).toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

// The best round's requests per second, as a ratio to the best round of the row's baseline.
function throughputRatio(row: Row, rows: Row[]): number {
  const best = (r: Row | undefined): number => Math.max(...(r?.samples ?? []).map((s) => s.rps));
  return best(row) / best(rows.find((r) => r.name === row.baseline));
}

// How the recommended instrumentation stands: at least 0.95x of its baseline's throughput,
// and a better ratio than every peer's to its own baseline.
export function verdict(rows: Row[]): { text: string; ok: boolean } {
  const mine = rows.find((r) => r.recommended === true);
  if (mine === undefined || mine.samples.length === 0)
    return { text: 'The recommended instrumentation was not measured in this run.', ok: true };
  const ratio = throughputRatio(mine, rows);
  const peers = rows.filter(
    (r) => r.peer === true && r.name !== r.baseline && r.samples.length > 0,
  );
  const ahead = peers.every((p) => throughputRatio(p, rows) < ratio);
  const ok = ratio >= 0.95 && ahead;
  const peerText = peers.map((p) => `${p.name} ${throughputRatio(p, rows).toFixed(2)}x`).join(', ');
  return {
    ok,
    text:
      `Recommended: ${mine.name} at ${ratio.toFixed(2)}x of ${mine.baseline}'s throughput (aim: at least 0.95x)` +
      `${peers.length > 0 ? `; the peers, each to its own baseline: ${peerText}` : ''}. ` +
      (ok
        ? 'Both aims met.'
        : `NOT met: ${ratio < 0.95 ? 'below 0.95x' : ''}${ratio < 0.95 && !ahead ? ' and ' : ''}${ahead ? '' : 'behind a peer'}.`),
  };
}

// bench/RESULTS.md keeps one section per mode between markers, so the soak run and the
// throughput run each rewrite only their own.
export function writeSection(file: string, name: string, body: string): void {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  let text = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmark results\n\nWritten by `npm run bench`; do not edit by hand.\n';
  const block = `${begin}\n${body}\n${end}`;
  const at = text.indexOf(begin);
  text =
    at === -1
      ? `${text.trimEnd()}\n\n${block}\n`
      : `${text.slice(0, at)}${block}${text.slice(text.indexOf(end) + end.length)}`;
  writeFileSync(file, text);
}

export interface Counted {
  name: string;
  baseline: string;
  perRequest: number;
  recommended?: boolean;
  peer?: boolean;
}

function countedRatio(row: Counted, rows: Counted[]): number {
  return row.perRequest / (rows.find((r) => r.name === row.baseline)?.perRequest ?? NaN);
}

export function formatInstructions(rows: Counted[]): string {
  const lines = ['| server | vs | instructions/request | ratio |', '|---|---|---|---|'];
  for (const row of rows)
    lines.push(
      `| ${row.name} | ${row.baseline === row.name ? '(baseline)' : row.baseline} | ${Math.round(row.perRequest)} | ${countedRatio(row, rows).toFixed(3)}x |`,
    );
  return lines.join('\n');
}

// The verdict of the benchmark: the recommended instrumentation at most 1.05x its baseline's
// instructions per request, and a smaller ratio than every peer's to its own baseline.
export const INSTRUCTIONS_AIM = 1.05;

export function instructionsVerdict(rows: Counted[]): { text: string; ok: boolean } {
  const mine = rows.find((r) => r.recommended === true);
  if (mine === undefined)
    return { text: 'The recommended instrumentation was not measured in this run.', ok: true };
  const ratio = countedRatio(mine, rows);
  const peers = rows.filter((r) => r.peer === true && r.name !== r.baseline);
  const ahead = peers.every((p) => countedRatio(p, rows) > ratio);
  const ok = ratio <= INSTRUCTIONS_AIM && ahead;
  const peerText = peers.map((p) => `${p.name} ${countedRatio(p, rows).toFixed(3)}x`).join(', ');
  return {
    ok,
    text:
      `Verdict: ${mine.name} runs ${ratio.toFixed(3)}x the instructions per request of ${mine.baseline} (aim: at most ${INSTRUCTIONS_AIM}x)` +
      `${peers.length > 0 ? `; the peers, each to its own baseline: ${peerText}` : ''}. ` +
      (ok
        ? 'Met.'
        : `NOT met: ${ratio > INSTRUCTIONS_AIM ? `above ${INSTRUCTIONS_AIM}x` : ''}${ratio > INSTRUCTIONS_AIM && !ahead ? ' and ' : ''}${ahead ? '' : 'not below every peer'}.`),
  };
}
