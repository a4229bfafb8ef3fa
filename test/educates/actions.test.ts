import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkAction } from '../../educates/actions.js';
import { listPages, parsePage } from '../../portal/pages.js';
import { ROOT } from '../helpers/servers.js';

const action = (kind: string, body: Record<string, unknown>) => ({ kind, body, line: 1 });

describe("the pages' action blocks on Educates", () => {
  it('uses only actions Educates 3.7 has, each field of the type it takes', () => {
    const problems: string[] = [];
    let count = 0;
    for (const file of listPages(join(ROOT, 'workshop')))
      for (const block of parsePage(file).blocks)
        if (block.type === 'action') {
          count++;
          for (const p of checkAction(block.action))
            problems.push(`${file}:${block.action.line}: ${p}`);
        }
    assert.deepEqual(problems, []);
    assert.ok(count > 50, `${count} actions`);
  });

  it('names a field Educates does not have, a field of the wrong type and a missing one', () => {
    assert.deepEqual(
      checkAction(action('dashboard:open-dashboard', { name: 'Grafana', url: 'http://x/' })),
      ["Educates' dashboard:open-dashboard has no field url"],
    );
    assert.deepEqual(
      checkAction(action('editor:select-matching-text', { file: 'a', text: 'b', before: '1' })),
      ['editor:select-matching-text: before must be an integer'],
    );
    assert.deepEqual(checkAction(action('examiner:execute-test', { args: ['x'] })), [
      'examiner:execute-test needs name',
    ]);
    assert.deepEqual(checkAction(action('terminal:run', {})), [
      'Educates 3.7 has no terminal:run action',
    ]);
  });

  it('refuses a fourth terminal, which Educates does not show', () => {
    assert.deepEqual(checkAction(action('terminal:execute', { command: 'true', session: 3 })), []);
    assert.match(
      checkAction(action('terminal:execute', { command: 'true', session: 4 }))[0] ?? '',
      /from 1 to 3/,
    );
  });

  it("takes the examiner's and the sections' fields as Educates documents them", () => {
    const test = {
      name: 'page-06',
      title: 'hello-world-v3-1 took 50 ms',
      args: ['hello-world-v3-1'],
      timeout: 30,
      retries: Infinity,
      delay: 5,
      autostart: true,
      cascade: true,
    };
    assert.deepEqual(checkAction(action('examiner:execute-test', test)), []);
    assert.deepEqual(
      checkAction(action('section:begin', { name: 'check', title: 'Check', open: false })),
      [],
    );
    assert.deepEqual(checkAction(action('section:end', { name: 'check' })), []);
    assert.deepEqual(
      checkAction(action('examiner:execute-test', { name: 'x', retries: 'forever' })),
      ['examiner:execute-test: retries must be an integer or .INF'],
    );
  });
});
