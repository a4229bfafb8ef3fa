import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createRunner } from '../../workshop/runner/runner.js';
import type { Action } from '../../workshop/runner/pages.js';
import { ROOT } from '../helpers/servers.js';

async function waitFor(read: () => string, pattern: RegExp, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pattern.test(read())) return;
    await sleep(50);
  }
  throw new Error(`no ${String(pattern)} in:\n${read()}`);
}

describe('the workshop runner', () => {
  it("runs the testing page's first command and interrupts it", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let seen = '';
    output.on('data', (d: Buffer) => (seen += d.toString()));
    const runner = createRunner({ root: ROOT, input, output });
    try {
      const page = runner.pages[runner.find('testing-hello-world')];
      const actions = (page?.blocks ?? []).flatMap((b) => (b.type === 'action' ? [b.action] : []));
      const first = actions.find((a) => a.kind === 'terminal:execute') as Action;
      assert.equal(first.body['command'], 'npm run start-server -- hello-world-v1 --port 8080');

      input.write('y\n');
      await runner.perform(first);
      assert.match(seen, /run in terminal 1: npm run start-server -- hello-world-v1 --port 8080/);
      await waitFor(
        () => seen,
        /\[1\] .*serving hello-world-v1 at http:\/\/127\.0\.0\.1:8080\//,
        30_000,
      );
      assert.equal(await (await fetch('http://127.0.0.1:8080/')).text(), 'Hello World!');

      await runner.perform({ kind: 'terminal:interrupt', body: { session: 1 }, line: 0 });
      assert.match(seen, /\[1\] .*"signal":"SIGINT".*stopping/);
      await waitFor(() => seen, /\[1\] (exited 0|stopped by SIGINT)/, 5_000);
      assert.equal(runner.sessions.size, 0);
      await assert.rejects(fetch('http://127.0.0.1:8080/'), 'the application is gone');
    } finally {
      await runner.interruptAll();
      runner.close();
    }
  });

  it('finds a page by number or by name, and says which pages exist', () => {
    const runner = createRunner({
      root: ROOT,
      input: new PassThrough(),
      output: new PassThrough(),
    });
    try {
      assert.equal(runner.find('6'), runner.find('response-completion'));
      assert.equal(runner.find('06-response-completion'), 5);
      assert.throws(() => runner.find('nope'), /no page "nope"; pages: 1 01-overview/);
    } finally {
      runner.close();
    }
  });
});
