import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listPages, parsePage } from '../../portal/pages.js';
import { ROOT } from '../helpers/servers.js';
import { type Portal, startPortal } from '../../harness/portal.js';
import { raw, UPGRADE } from './raw-request.js';

describe('the workshop portal (npm run workshop -- serve)', () => {
  let portal: Portal;
  before(async () => {
    portal = await startPortal(['--allowed-host', 'workshop.lab']);
  });
  after(async () => {
    await portal.close();
  });

  it("serves / as HTML naming every page's title", async () => {
    const response = await fetch(`${portal.url}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    const html = await response.text();
    const pages = listPages(join(ROOT, 'workshop')).map((f) => parsePage(f).title);
    assert.ok(pages.length >= 12);
    for (const title of pages) assert.ok(html.includes(title.replace(/&/g, '&amp;')), title);
  });

  it('answers 403 to a foreign Host or Origin, on plain requests and WebSocket upgrades', async () => {
    const own = `127.0.0.1:${portal.port}`;
    assert.equal((await raw(portal.port, { Host: 'attacker.example' })).status, 403);
    assert.equal((await raw(portal.port, { Host: `attacker.example:${portal.port}` })).status, 403);
    // Node's own server refuses an HTTP/1.1 request without Host.
    assert.equal((await raw(portal.port, {})).status, 400, 'no Host at all');
    assert.equal(
      (await raw(portal.port, { Host: own, Origin: 'http://attacker.example' })).status,
      403,
    );
    assert.equal((await raw(portal.port, { Host: own, Origin: 'null' })).status, 403);
    assert.equal(
      (await raw(portal.port, { Host: 'evil.example', ...UPGRADE }, '/terminals/1')).status,
      403,
    );
    assert.equal(
      (
        await raw(
          portal.port,
          { Host: own, Origin: 'http://evil.example', ...UPGRADE },
          '/terminals/1',
        )
      ).status,
      403,
    );
    assert.equal((await raw(portal.port, { Host: own, Origin: `http://${own}` })).status, 200);
  });

  it('accepts localhost, [::1] and a name given with --allowed-host, on any port', async () => {
    for (const host of ['localhost:8080', '[::1]:9', 'LOCALHOST', 'workshop.lab:8080'])
      assert.equal((await raw(portal.port, { Host: host })).status, 200, host);
    const upgraded = await raw(
      portal.port,
      { Host: `localhost:${portal.port}`, Origin: `http://localhost:${portal.port}`, ...UPGRADE },
      '/terminals/9',
    );
    assert.equal(upgraded.status, 101);
  });

  it("shows a file of the repository with a page's selection marked, and nothing outside it", async () => {
    const file = join(ROOT, 'workshop', '06-response-completion.md');
    const action = parsePage(file)
      .blocks.map((b) => (b.type === 'action' ? b.action : undefined))
      .find((a) => a?.kind === 'editor:select-matching-text' && a.body['isRegex'] === true);
    assert.ok(action !== undefined, 'page 06 selects by a regular expression');
    const query = new URLSearchParams({
      page: '06-response-completion',
      line: String(action.line),
    });
    const view = (await (await fetch(`${portal.url}/api/selection?${query}`)).json()) as {
      path: string;
      lines: string[];
      start: number;
      end: number;
    };
    assert.equal(view.path, action.body['file']);
    const marked = view.lines
      .slice(view.start - 1, view.end)
      .join('\n')
      .replace(/<[^>]+>/g, '');
    assert.match(marked, new RegExp(String(action.body['text'])));
    const outside = await fetch(`${portal.url}/api/file?path=../../etc/passwd`);
    assert.equal(outside.status, 404);
    assert.deepEqual(await outside.json(), {
      error: '../../etc/passwd is not a file of the repository',
    });
    const gone = await fetch(`${portal.url}/api/file?path=apps/nope.ts`);
    assert.deepEqual(await gone.json(), { error: 'no file apps/nope.ts' });
  });

  it('renders every action of a page as a button that carries its body', async () => {
    const page = (await (await fetch(`${portal.url}/api/pages/06-response-completion`)).json()) as {
      html: string;
    };
    assert.match(page.html, /data-action="terminal:execute"/);
    assert.match(
      page.html,
      /data-action="dashboard:reload-dashboard" data-line="\d+" data-body="[^"]*http:\/\/localhost:3000\/d\/raw-requests\?var-variant=hello-world-v3-1/,
    );
    assert.doesNotMatch(page.html, /\{\{grafana_url\}\}/);
  });

  it('shows none of the text a page keeps in HTML comments for Educates', async () => {
    const page = (await (await fetch(`${portal.url}/api/pages/02-setup`)).json()) as {
      html: string;
    };
    assert.match(page.html, /docker compose up -d/);
    assert.doesNotMatch(page.html, /educates:|Your session started|&lt;!--/);
  });
});

describe('the portal with WORKSHOP_TOKEN set', () => {
  let portal: Portal;
  before(async () => {
    portal = await startPortal([], { WORKSHOP_TOKEN: 's3cret-s3cret-s3cret' });
  });
  after(async () => {
    await portal.close();
  });

  it('asks for the token, and lets in a browser that gave it', async () => {
    const host = { Host: `127.0.0.1:${portal.port}` };
    const asked = await raw(portal.port, host);
    assert.equal(asked.status, 401);
    assert.match(asked.body, /WORKSHOP_TOKEN/);
    assert.equal((await raw(portal.port, host, '/?token=wrong')).status, 401);
    const given = await raw(portal.port, host, '/?token=s3cret-s3cret-s3cret');
    assert.equal(given.status, 302);
    const cookie = String(given.headers['set-cookie']).split(';')[0] ?? '';
    assert.equal(cookie, 'workshop_token=s3cret-s3cret-s3cret');
    assert.equal((await raw(portal.port, { ...host, Cookie: cookie })).status, 200);
    assert.equal((await raw(portal.port, { ...host, ...UPGRADE }, '/terminals/1')).status, 401);
    assert.equal((await raw(portal.port, host, '/healthz')).status, 200);
  });
});

describe('a page the portal cannot read', () => {
  let copy: string;
  let portal: Portal;
  before(async () => {
    copy = mkdtempSync(join(tmpdir(), 'portal-'));
    for (const path of ['workshop', 'apps', 'docker-compose.yml'])
      cpSync(join(ROOT, path), join(copy, path), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    writeFileSync(
      join(copy, 'workshop', '13-broken.md'),
      '# Broken\n\n```terminal:execute\ncommand: [unclosed\n```\n',
    );
    portal = await startPortal(['--root', copy]);
  });
  after(async () => {
    await portal.close();
    rmSync(copy, { recursive: true, force: true });
  });

  it('is shown with what is wrong and where, not as a blank page', async () => {
    const page = (await (await fetch(`${portal.url}/api/pages/13-broken`)).json()) as {
      html: string;
    };
    assert.match(page.html, /class="page-error">line 3: the terminal:execute block cannot be read/);
    const missing = await fetch(`${portal.url}/api/pages/99-none`);
    assert.equal(missing.status, 404);
  });
});
