// What an attacker or a clumsy client sent the portal when it was first tried from outside
// (issue 18), each at a real portal on a real socket: the portal answers /healthz within
// 1 s during and after each, and the shells still answer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../../harness/servers.js';
import { parsePage, listPages } from '../../portal/pages.js';
import { healthz, responsiveDuring } from './healthz.js';
import { type Portal, emptyHome, startPortal } from '../../harness/portal.js';
import { answers, attachTerminal, shellAnswers } from '../../harness/terminal-client.js';

const TOKEN = 'a-token-of-24-characters';

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: { Host: `127.0.0.1:${port}`, ...headers },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers });
        });
      },
    );
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('error', reject);
    req.end();
  });
}

// The first editor:select-matching-text action of the pages, and a line that holds none.
function aSelection(): { page: string; line: number; file: string } {
  for (const file of listPages(join(ROOT, 'workshop'))) {
    const page = parsePage(file);
    for (const block of page.blocks)
      if (block.type === 'action' && block.action.kind === 'editor:select-matching-text')
        return {
          page: page.name,
          line: block.action.line,
          file: String(block.action.body['file']),
        };
  }
  throw new Error('no page selects text');
}

describe('the portal, sent what broke it before', () => {
  let copy: string;
  let portal: Portal;
  before(async () => {
    copy = mkdtempSync(join(tmpdir(), 'portal-hostile-'));
    for (const path of ['workshop', 'apps', 'docker-compose.yml', 'README.md'])
      cpSync(join(ROOT, path), join(copy, path), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    symlinkSync('/etc/passwd', join(copy, 'apps', 'passwd'));
    symlinkSync('/', join(copy, 'apps', 'outside'));
    symlinkSync('hello-world-v1/app.ts', join(copy, 'apps', 'inside.ts'));
    // 0.9 MB of TypeScript: highlighting it held the event loop 0.5 s a request.
    writeFileSync(
      join(copy, 'apps', 'big.ts'),
      'export const answer: number = 42; // a line of TypeScript\n'.repeat(16_000),
    );
    portal = await startPortal(['--root', copy]);
  });
  after(async () => {
    await portal.close();
    rmSync(copy, { recursive: true, force: true });
  });

  it('runs no pattern from the query string: the file is shown unmarked, and a selection is looked up by page and line', async () => {
    await responsiveDuring(portal.url, async () => {
      // (.+)+~~~ backtracked forever on README.md.
      const response = await fetch(
        `${portal.url}/api/file?path=README.md&isRegex=true&text=(.%2B)%2B~~~`,
      );
      assert.equal(response.status, 200);
      const view = (await response.json()) as { start?: number; lines: string[] };
      assert.equal(view.start, undefined);
      assert.ok(view.lines.length > 10);
      const { page, line, file } = aSelection();
      const selected = (await (
        await fetch(`${portal.url}/api/selection?page=${page}&line=${line}`)
      ).json()) as { path: string; start: number; end: number };
      assert.equal(selected.path, file);
      assert.ok(selected.start >= 1 && selected.end >= selected.start);
      for (const query of [`page=${page}&line=1`, `page=nope&line=${line}`, 'text=(.%2B)%2B~~~'])
        assert.equal((await fetch(`${portal.url}/api/selection?${query}`)).status, 404, query);
    });
  });

  it('answers a WebSocket message it does not accept (null first) with an error, and keeps the connection and the shell', async () => {
    const client = await attachTerminal(portal.url, '3');
    const refused = [
      'null',
      '[]',
      '"in"',
      '42',
      '{"t":"in"}',
      '{"t":"in","data":7}',
      '{"t":"in","data":"x","more":1}',
      '{"t":"resize","cols":"80","rows":24}',
      '{"t":"resize","cols":80,"rows":1e9}',
      '{"t":"ack","chars":-1}',
      '{"t":"__proto__"}',
      '{"t":"constructor"}',
      '{"t":"toString","data":"x"}',
      '{"t":["in"],"data":"x"}',
      '{"t":"in","data":"',
    ];
    try {
      await responsiveDuring(portal.url, async () => {
        for (const text of refused) client.ws.send(text);
        client.ws.send(Buffer.from([0, 1, 2]), { binary: true });
        for (let i = 0; i < 600 && client.errors.length < refused.length + 1; i++)
          await new Promise((resolve) => setTimeout(resolve, 50));
      });
      assert.equal(client.errors.length, refused.length + 1, client.errors.join('\n'));
      assert.equal(client.errors[0], 'not a JSON object');
      assert.equal(client.ws.readyState, client.ws.OPEN);
      await answers(client);
    } finally {
      await client.close();
    }
    await shellAnswers(portal.url, '3');
  });

  it('follows no symbolic link out of the repository, and follows one inside it', async () => {
    for (const path of ['apps/passwd', 'apps/outside/etc/passwd', '../../proc/self/environ']) {
      const response = await fetch(`${portal.url}/api/file?path=${encodeURIComponent(path)}`);
      assert.equal(response.status, 404, path);
      assert.deepEqual(await response.json(), {
        error: `${path} is not a file of the repository`,
      });
    }
    const inside = await fetch(`${portal.url}/api/file?path=apps/inside.ts`);
    assert.equal(inside.status, 200);
  });

  it('shows a 0.9 MB file plain, with /healthz answering throughout', async () => {
    await responsiveDuring(portal.url, async () => {
      for (let i = 0; i < 3; i++) {
        const view = (await (await fetch(`${portal.url}/api/file?path=apps/big.ts`)).json()) as {
          lines: string[];
        };
        assert.equal(view.lines.length, 16_000);
        assert.ok(!view.lines.some((l) => l.includes('<span')), 'no highlighting');
      }
    });
  });
});

describe('the portal with WORKSHOP_TOKEN set, tried by guessing', () => {
  let portal: Portal;
  before(async () => {
    portal = await startPortal([], { WORKSHOP_TOKEN: TOKEN });
  });
  after(async () => {
    await portal.close();
  });

  it('refuses a token shorter than 16 characters at start, naming the setting', () => {
    const home = emptyHome();
    try {
      for (const token of ['a', 'fifteen-chars-x']) {
        const result = spawnSync(
          process.execPath,
          ['--import', 'tsx', 'portal/main.ts', 'serve', '--port', '0'],
          {
            cwd: ROOT,
            env: { ...process.env, HOME: home.home, WORKSHOP_TOKEN: token },
            encoding: 'utf8',
            timeout: 60_000,
          },
        );
        assert.equal(result.status, 2, result.stderr);
        assert.match(
          result.stderr,
          new RegExp(`WORKSHOP_TOKEN is ${token.length} characters: use 16 or more`),
        );
      }
    } finally {
      home.remove();
    }
  });

  it('answers a cookie with a malformed % escape 401, not 500', async () => {
    const response = await get(portal.port, '/', { Cookie: 'workshop_token=%E0%A4%A' });
    assert.equal(response.status, 401);
    await healthz(portal.url);
  });

  it('answers 429 with retry-after once an address has failed 20 times, upgrades included, and still lets in the token it holds', async () => {
    const statuses: number[] = [];
    let retryAfter: unknown;
    await responsiveDuring(portal.url, async () => {
      for (let i = 0; i < 1000; i++) {
        const response = await get(portal.port, `/?token=wrong-${i}`);
        statuses.push(response.status);
        retryAfter ??= response.headers['retry-after'];
      }
    });
    const firstLimited = statuses.indexOf(429);
    assert.ok(firstLimited > 0 && firstLimited <= 20, `the first 429 came at ${firstLimited}`);
    assert.ok(
      statuses.slice(0, firstLimited).every((s) => s === 401),
      'each failure before it is a 401',
    );
    assert.ok(
      statuses.slice(firstLimited).every((s) => s === 429),
      'all after it are 429',
    );
    const seconds = Number(retryAfter);
    assert.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60, String(retryAfter));
    const upgrade = await get(portal.port, '/terminals/1', {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    });
    assert.equal(upgrade.status, 429);
    // Even the right token, offered now, waits: the address is guessing.
    assert.equal((await get(portal.port, `/?token=${TOKEN}`)).status, 429);
    // A browser that already holds it is not locked out.
    assert.equal((await get(portal.port, '/', { Cookie: `workshop_token=${TOKEN}` })).status, 200);
  });
});
