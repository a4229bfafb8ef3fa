import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
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

// The scrape's verdict: hello-world-v7's counted histogram against prom-client's in
// hello-world-v3, a scrape's instructions at as many label sets: no more at 1 and 10, at most
// a quarter from 100 on, where writing the lines is most of a scrape.
export const SCRAPE_PAIR = { before: 'hello-world-v3', after: 'hello-world-v7' };
export const scrapeAim = (labelSets: number): number => (labelSets < 100 ? 1 : 0.25);

export interface Scraped {
  k: number;
  name: string;
  scrape: number;
}

export function scrapeVerdict(rows: Scraped[]): { text: string; ok: boolean; lines: string[] } {
  const { before, after } = SCRAPE_PAIR;
  const lines: string[] = [];
  const parts: string[] = [];
  let ok = true;
  for (const k of [...new Set(rows.map((r) => r.k))].sort((a, b) => a - b)) {
    const of = (name: string) => rows.find((r) => r.k === k && r.name === name)?.scrape;
    const [b, a] = [of(before), of(after)];
    if (a === undefined || b === undefined) continue;
    const ratio = a / b;
    ok &&= ratio <= scrapeAim(k);
    lines.push(`scrape ratio: ${after} ${k} ${ratio.toFixed(3)}x ${before}`);
    parts.push(`${ratio.toFixed(3)}x at ${k} (aim: at most ${scrapeAim(k)}x)`);
  }
  if (parts.length === 0)
    return { text: `${before} and ${after} were not both measured in this run.`, ok, lines };
  return {
    ok,
    lines,
    text: `Verdict: a scrape of ${after} (the counted histogram) in instructions, against ${before} (prom-client's Histogram) with as many label sets: ${parts.join(', ')}. ${ok ? 'Met.' : 'NOT met.'}`,
  };
}
