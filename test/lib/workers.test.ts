import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { ok, sample, scrape } from '../helpers/metrics.js';
import { ROOT, launch, type Running } from '../../harness/servers.js';

interface Line {
  pid?: number;
  worker?: string;
  msg?: string;
}
const parsed = (server: Running): Line[] => server.lines.map((l) => JSON.parse(l) as Line);

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(50);
  assert.ok(check(), `waited 10 s for ${what}`);
}

const cpu = (text: string, worker: string) => sample(text, 'process_cpu_seconds_total', { worker });

describe('--workers: node:cluster workers sharing one port', () => {
  it('sums the requests of 2 workers in one scrape: 1,000 requests read 1,000', async () => {
    const server = await launch(['hello-world-v3/app-2', '--workers', '2']);
    try {
      const before = await scrape(server.url);
      // Eight connections: the primary hands new connections to the workers in turn.
      const result = await autocannon({ url: `${server.url}/`, amount: 1000, connections: 8 });
      assert.equal(result['2xx'], 1000);
      const text = await scrape(server.url);
      assert.equal(sample(text, 'http_requests_total', ok()), 1000);
      assert.equal(sample(text, 'http_request_duration_seconds_count', ok()), 1000);
      // Each worker's own process metrics, labelled by its number, both moving. (How the work
      // was shared is a matter of timing, which a test on a shared machine does not judge.)
      for (const w of ['1', '2'])
        assert.ok(cpu(text, w) > cpu(before, w), `worker ${w}: CPU did not rise`);
      assert.equal(text.match(/^process_resident_memory_bytes\{worker="\d+"\} /gm)?.length, 2);
    } finally {
      await server.stop();
    }
  });

  it('sums the counted histograms of hello-world-v7 the same way: 1,000 requests read 1,000', async () => {
    const server = await launch(['hello-world-v7/app-2', '--workers', '2']);
    try {
      const result = await autocannon({ url: `${server.url}/`, amount: 1000, connections: 8 });
      assert.equal(result['2xx'], 1000);
      const text = await scrape(server.url);
      assert.equal(sample(text, 'http_request_duration_seconds_count', ok()), 1000);
      assert.equal(
        sample(text, 'http_request_duration_seconds_bucket', { le: '+Inf', ...ok() }),
        1000,
      );
      assert.ok(sample(text, 'http_request_duration_seconds_sum', ok()) > 0);
    } finally {
      await server.stop();
    }
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const server = await launch(['hello-world-v3/app-2', '--workers', '2']);
    await until(
      'both workers',
      () =>
        parsed(server).filter(
          (l) => l.msg?.endsWith(' listening') === true && l.worker !== undefined,
        ).length === 2,
    );
    await server.stop();
    assert.equal(await server.exited, 0);
    const stopped = new Set(
      parsed(server)
        .filter((l) => l.msg === 'stopped')
        .map((l) => l.pid),
    );
    assert.equal(stopped.size, 2);
  });

  it('drains once when SIGTERM reaches the whole process group, as from timeout(1) or kill -- -PGID', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'lib/start-server.ts',
        'hello-world-v3/app-2',
        '--port',
        '0',
        '--workers',
        '2',
      ],
      { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(child, 'exit');
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until('all workers', () => out.includes('with 2 workers at'));
    process.kill(-(child.pid ?? 0), 'SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    assert.equal(out.match(/"msg":"stopped"/g)?.length, 2);
  });

  it('replaces a worker that dies, under the same number', async () => {
    const server = await launch(['hello-world-v3/app-2', '--workers', '2']);
    try {
      await until(
        'both workers',
        () =>
          parsed(server).filter(
            (l) => l.msg === 'worker 1 listening' || l.msg === 'worker 2 listening',
          ).length === 2,
      );
      const first = parsed(server).find((l) => l.msg === 'worker 1 listening')?.pid;
      assert.ok(first !== undefined);
      process.kill(first, 'SIGKILL');
      await until('a new worker 1', () =>
        parsed(server).some((l) => l.msg === 'worker 1 listening' && l.pid !== first),
      );
      await (await fetch(`${server.url}/`)).text();
      const text = await scrape(server.url);
      assert.ok(cpu(text, '1') > 0 && cpu(text, '2') > 0);
    } finally {
      await server.stop();
    }
  });

  it('rejects a --workers value that is not a whole number up to 64', async () => {
    for (const workers of ['-1', 'two', '65']) {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'lib/start-server.ts',
          'hello-world-v1',
          '--port',
          '0',
          `--workers=${workers}`,
        ],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 2, workers);
      assert.match(stderr, /--workers must be a whole number from 0 to 64/);
    }
  });
});
