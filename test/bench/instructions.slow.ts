// npm run test:bench: the instructions count, for real under valgrind (about 5 minutes on 2
// cores). Not in npm test, which stays under 3 minutes.
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
      timeout: 900_000,
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
});
