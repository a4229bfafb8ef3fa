// npm run bench, cut to two short pairs: it runs, measures real servers under real load, and
// writes its table and the recommended instrumentation's standing. (The numbers of so short a
// run say nothing; bench/RESULTS.md holds a full run's.) The callgrind counts take minutes:
// npm run test:bench runs them (test/bench/instructions.slow.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/servers.js';
import { medianInterval, pairedVerdict, type PairedRow } from '../../bench/paired.js';
import { instructionsVerdict, scrapeVerdict } from '../../bench/report.js';

describe('npm run bench', () => {
  it('writes a row of paired ratios per server measured beside its baseline, and a verdict', () => {
    const dir = join(ROOT, '.tmp');
    mkdirSync(dir, { recursive: true });
    const out = join(dir, 'bench-smoke.md');
    rmSync(out, { force: true });
    const args = [
      'run',
      'bench',
      '--',
      '--pairs',
      '2',
      '--warmup',
      '1',
      '--duration',
      '1',
      '--only',
      'hello-world-v7/app-2',
      '--out',
      out,
    ];
    const run = spawnSync('npm', args, { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
    assert.equal(run.status, 0, run.stderr);
    const text = readFileSync(out, 'utf8');
    const rows = text.split('\n').filter((l) => l.startsWith('| hello-world-'));
    assert.deepEqual(
      rows.map((r) => r.split(' | ').slice(0, 3).join(' | ')),
      ['| hello-world-v7/app-2 | hello-world-v1 | 2'],
    );
    const cells = (rows[0] ?? '').split('|').map((c) => c.trim());
    assert.ok(Number(cells[4]?.replace('x', '')) > 0, `throughput ratio in ${rows[0]}`);
    assert.ok(Number(cells[6]?.replace('x', '')) > 0, `CPU ratio in ${rows[0]}`);
    assert.match(
      text,
      /^Wall clock: hello-world-v7\/app-2 at \d+\.\d\dx of hello-world-v1's throughput, .* confidence/m,
    );
  });

  it('rejects a setting that is not a positive number, naming it', () => {
    const run = spawnSync('npm', ['run', 'bench', '--', '--pairs', 'zero'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--pairs must be a positive number, not "zero"/);
  });

  it('rejects a server name it does not know, listing the names it does', () => {
    const run = spawnSync('npm', ['run', 'bench', '--', '--only', 'hello-world-v9'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(run.status, 2);
    assert.match(
      run.stderr,
      /no server named "hello-world-v9"; choose from: hello-world-v1, .*hello-world-v7\/app-2/,
    );
  });
});

describe('the verdicts', () => {
  const row = (throughput: number[]): PairedRow => ({
    name: 'v7',
    baseline: 'v1',
    recommended: true,
    throughput,
    cpu: throughput.map((t) => 1 / t),
    busy: 1,
  });

  it('bounds the median of 8 pairs by their 2nd smallest and 2nd largest, with 93 % confidence', () => {
    assert.deepEqual(medianInterval([1, 8, 2, 7, 3, 6, 4, 5]), {
      lo: 2,
      hi: 7,
      confidence: 0.9296875,
    });
  });

  it('says "not decided" when the interval of the pair ratios straddles the aim', () => {
    assert.match(pairedVerdict([row([0.9, 0.93, 0.94, 0.96, 0.97, 0.98, 0.99, 1])]), /not decided/);
    assert.match(pairedVerdict([row([0.96, 0.97, 0.97, 0.98, 0.98, 0.99, 0.99, 1])]), /: met\./);
    assert.match(pairedVerdict([row([0.8, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.9])]), /NOT met/);
  });

  it('judges instructions per request against 1.05x the baseline and every peer', () => {
    const counted = (v7: number, peer: number) => [
      { name: 'v1', baseline: 'v1', perRequest: 1000 },
      { name: 'v7', baseline: 'v1', perRequest: v7, recommended: true },
      { name: 'f', baseline: 'f', perRequest: 1000, peer: true },
      { name: 'f+m', baseline: 'f', perRequest: peer, peer: true },
    ];
    assert.equal(instructionsVerdict(counted(1050, 1300)).ok, true);
    assert.match(instructionsVerdict(counted(1051, 1300)).text, /NOT met: above 1.05x/);
    assert.match(instructionsVerdict(counted(1040, 1030)).text, /NOT met: not below every peer/);
  });

  it("judges v7's scrape against v3's: no more at 1 and 10 label sets, a quarter from 100", () => {
    const scraped = (k: number, v3: number, v7: number) => [
      { k, name: 'hello-world-v3', scrape: v3 },
      { k, name: 'hello-world-v7', scrape: v7 },
    ];
    const at = (rows: ReturnType<typeof scraped>[]) => scrapeVerdict(rows.flat());
    assert.equal(at([scraped(10, 100, 100), scraped(100, 100, 25)]).ok, true);
    assert.equal(at([scraped(10, 100, 101)]).ok, false);
    const verdict = at([scraped(1, 100, 90), scraped(1000, 100, 26)]);
    assert.equal(verdict.ok, false);
    assert.deepEqual(verdict.lines, [
      'scrape ratio: hello-world-v7 1 0.900x hello-world-v3',
      'scrape ratio: hello-world-v7 1000 0.260x hello-world-v3',
    ]);
    assert.match(verdict.text, /0\.260x at 1000 \(aim: at most 0\.25x\)\. NOT met\./);
  });
});
