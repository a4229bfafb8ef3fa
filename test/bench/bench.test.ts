// npm run bench, cut to one short round: it runs, measures real servers under real load, and
// writes its table and the recommended instrumentation's standing. (The numbers of so short a
// run say nothing; bench/RESULTS.md holds a full run's.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/servers.js';

describe('npm run bench', () => {
  it('writes a row per server measured and how the recommended instrumentation stands', () => {
    const dir = join(ROOT, '.tmp');
    mkdirSync(dir, { recursive: true });
    const out = join(dir, 'bench-smoke.md');
    rmSync(out, { force: true });
    const args = [
      'run',
      'bench',
      '--',
      '--rounds',
      '1',
      '--warmup',
      '1',
      '--duration',
      '2',
      '--only',
      'hello-world-v7/app-2',
      '--out',
      out,
    ];
    const run = spawnSync('npm', args, { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
    assert.equal(run.status, 0, run.stderr);
    const text = readFileSync(out, 'utf8');
    const rows = text
      .split('\n')
      .filter((l) => l.startsWith('| hello-world-') || l.startsWith('| fastify'));
    assert.deepEqual(
      rows.map((r) => r.split(' | ')[0]),
      ['| hello-world-v1', '| hello-world-v7/app-2', '| fastify (no metrics)'],
    );
    for (const row of rows) {
      const cells = row.split('|').map((c) => c.trim());
      assert.ok(Number(cells[3]?.split(' ')[0]) > 0, `requests per second in ${row}`);
      assert.ok(Number(cells[6]?.split(' ')[0]) > 0, `CPU per request in ${row}`);
    }
    assert.match(
      text,
      /^Recommended: hello-world-v7\/app-2 at \d+\.\d\dx of hello-world-v1's throughput/m,
    );
  });

  it('rejects a setting that is not a positive number, naming it', () => {
    const run = spawnSync('npm', ['run', 'bench', '--', '--rounds', 'zero'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--rounds must be a positive number, not "zero"/);
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
