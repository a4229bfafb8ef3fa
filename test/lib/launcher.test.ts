import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, launch } from '../../harness/servers.js';
import { ok, sample, scrape } from '../helpers/metrics.js';

async function runLauncher(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/start-server.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('the launcher', () => {
  it('serves hello-world-v1 and says where it listens', async () => {
    const server = await launch(['hello-world-v1']);
    try {
      const res = await fetch(`${server.url}/`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'Hello World!');
      const listening = server.lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((e) => e['url'] !== undefined);
      assert.ok(listening, 'a log line says where it listens');
      assert.equal(listening['variant'], 'hello-world-v1');
      assert.equal(listening['url'], `${server.url}/`);
      const metrics = await scrape(server.url);
      assert.match(metrics, /^process_cpu_seconds_total \d/m, 'Node process metrics are there');
      assert.ok(
        !metrics.includes('http_request'),
        'no request metrics in the uninstrumented variant',
      );
    } finally {
      await server.stop();
    }
  });

  it('rejects an unknown variant, listing the valid ones', async () => {
    const { code, stderr } = await runLauncher(['hello-world-v9', '--port', '0']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown variant "hello-world-v9"/);
    assert.match(
      stderr,
      /hello-world-v1, hello-world-v2\/app-1, hello-world-v2\/app-2, hello-world-v3\/app-1, hello-world-v3\/app-2/,
    );
  });

  it('rejects a bad port, naming the setting and the variants', async () => {
    for (const port of ['65536', 'eighty', '-1']) {
      const { code, stderr } = await runLauncher(['hello-world-v1', `--port=${port}`]);
      assert.equal(code, 2, `--port=${port}`);
      assert.match(stderr, /--port must be a whole number from 0 to 65535/);
      assert.match(stderr, /variants: hello-world-v1/);
    }
  });

  it('rejects an unknown option', async () => {
    const { code, stderr } = await runLauncher(['hello-world-v1', '--prot', '8000']);
    assert.equal(code, 2);
    assert.match(stderr, /--prot/);
    assert.match(stderr, /usage: npm run start-server/);
  });

  it('answers --help with an unreadable --apps-dir by naming it, without a stack trace', async () => {
    const { code, stderr } = await runLauncher(['--help', '--apps-dir', '/nonexistent']);
    assert.equal(code, 2);
    assert.match(stderr, /--apps-dir \/nonexistent cannot be read/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  it('rejects a LOG_LEVEL that is no level, naming the setting', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'lib/start-server.ts', 'hello-world-v1'],
      {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'loud' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(stderr, /^LOG_LEVEL=loud is not a log level/);
  });

  it('never counts a scrape of /metrics as a request', async () => {
    const server = await launch(['hello-world-v3/app-2']);
    try {
      for (let i = 0; i < 3; i++) await (await fetch(`${server.url}/`)).text();
      await scrape(server.url);
      await scrape(server.url);
      const text = await scrape(server.url);
      assert.equal(sample(text, 'http_requests_total', ok()), 3);
      assert.ok(!text.includes('route="/metrics"'));
      assert.equal(sample(text, 'http_requests_in_flight'), 0);
    } finally {
      await server.stop();
    }
  });

  it('on SIGTERM lets the request in flight complete, then exits 0 within 10 s', async () => {
    let signalled = 0;
    const server = await launch(['slow', '--apps-dir', join(ROOT, 'test/fixtures/apps')]);
    const body = new Promise<{ status: number | undefined; text: string }>((resolve, reject) => {
      const req = request(`${server.url}/`, (res) => {
        // Headers are here, so the handler is running: now ask the server to stop.
        server.child.kill('SIGTERM');
        signalled = performance.now();
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode, text });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    const { status, text } = await body;
    assert.equal(status, 200);
    assert.equal(text, 'slow Hello World!');
    assert.equal(await server.exited, 0);
    assert.ok(performance.now() - signalled < 10_000, 'the exit is within the 10 s Docker allows');
    const messages = server.lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.ok(messages.includes('stopped'), messages.join(' | '));
    await assert.rejects(fetch(`${server.url}/`), 'no longer accepts connections');
  });
});
