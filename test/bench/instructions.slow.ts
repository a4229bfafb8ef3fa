// npm run test:bench: the instructions counts, for real under valgrind (about 5 minutes on 2
// cores for each). Not in npm test, which stays under 3 minutes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/servers.js';

describe('npm run bench -- --instructions', () => {
  it('prints instructions per request of v7 and of v1, and their ratio, at most 1.05x', () => {
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    const args = ['run', 'bench', '--', '--instructions', '--only', 'hello-world-v7/app-2'];
    const out = ['--out', join(ROOT, '.tmp', 'bench-instructions.md')];
    const run = spawnSync('npm', [...args, ...out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 1_800_000,
    });
    const count = (name: string): number =>
      Number(new RegExp(`^instructions per request: ${name} (\\d+)$`, 'm').exec(run.stdout)?.[1]);
    assert.ok(count('hello-world-v1') > 10_000, run.stdout + run.stderr);
    assert.ok(count('hello-world-v7/app-2') > count('hello-world-v1'), run.stdout);
    const ratio = /^instructions ratio: hello-world-v7\/app-2 (\d+\.\d+)x hello-world-v1$/m.exec(
      run.stdout,
    )?.[1];
    assert.ok(Number(ratio) > 1 && Number(ratio) <= 1.05, run.stdout);
    assert.equal(run.status, 0, run.stderr);
  });

  it("prints a scrape of v7 and of v3 at 1,000 label sets, v7's at most 0.25x v3's", () => {
    const args = ['run', 'bench', '--', '--scrape-cost', '--label-sets', '1000'];
    const out = ['--only', 'hello-world-v7/app-2', '--out', join(ROOT, '.tmp', 'bench-scrape.md')];
    const run = spawnSync('npm', [...args, ...out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 1_800_000,
    });
    const scrape = (wrapper: string): number =>
      Number(new RegExp(`^scrape: ${wrapper} 1000 (\\d+)$`, 'm').exec(run.stdout)?.[1]);
    assert.ok(scrape('hello-world-v3') > 1_000_000, run.stdout + run.stderr);
    assert.ok(scrape('hello-world-v7') > 0, run.stdout);
    const ratio = /^scrape ratio: hello-world-v7 1000 (\d+\.\d+)x hello-world-v3$/m.exec(
      run.stdout,
    )?.[1];
    assert.ok(Number(ratio) > 0 && Number(ratio) <= 0.25, run.stdout);
    assert.equal(run.status, 0, run.stderr);
  });
});
