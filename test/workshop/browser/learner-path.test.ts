// The learner's path through the portal in a real headless Chromium (Debian's, driven by
// playwright-core; never a downloaded browser), clicking as a person does and waiting as a
// person waits. From a checkout it starts the portal itself; with WORKSHOP_URL it walks the
// portal of a running compose stack (npm run test:compose).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, type Running, launch } from '../../../harness/servers.js';
import { type GrafanaStandIn, startGrafanaStandIn } from '../grafana-stand-in.js';
import { type Portal, startPortal } from '../../../harness/portal.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const STACK_URL = process.env['WORKSHOP_URL'];
const SCREENSHOT = process.env['WORKSHOP_SCREENSHOT'] ?? join(ROOT, '.tmp', 'portal.png');

const missing = existsSync(CHROMIUM)
  ? undefined
  : `no ${CHROMIUM} (apt-get install chromium); the browser tests need Debian's Chromium`;
if (missing !== undefined && process.env['CI'] === 'true') throw new Error(missing);
if (missing !== undefined) process.stdout.write(`# skipped: ${missing}\n`);

async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

const terminalText = (page: Page, id: number): Promise<string> =>
  page.evaluate(
    (n) =>
      (
        window as unknown as { workshop: { terminalText(id: number): string } }
      ).workshop.terminalText(n),
    id,
  );

async function waitForTerminal(
  page: Page,
  id: number,
  pattern: RegExp,
  ms = 60_000,
): Promise<string> {
  const end = Date.now() + ms;
  let text = '';
  while (Date.now() < end) {
    text = await terminalText(page, id);
    if (pattern.test(text)) return text;
    await sleep(250);
  }
  throw new Error(`terminal ${id} never showed ${String(pattern)}; it ends:\n${text.slice(-1500)}`);
}

// The Grafana tab after a dashboard action: the dashboard when Grafana answers the portal,
// else the words that say it does not. Returns the frame's address, or undefined.
async function grafanaTab(page: Page, url: string): Promise<string | undefined> {
  const status = (await (await fetch(`${url}/api/grafana`)).json()) as { up: boolean };
  if (!status.up) {
    const down = page.locator('#grafana-down');
    await down.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(
      (await down.textContent()) ?? '',
      /^Grafana does not answer at \S+ \(.+\): is the grafana service up\? `docker compose ps grafana`$/,
    );
    assert.ok(!(await page.locator('#grafana').isVisible()), 'no broken frame');
    return undefined;
  }
  await page.locator('#grafana').waitFor({ state: 'visible', timeout: 15_000 });
  return (await page.locator('#grafana').getAttribute('src')) ?? '';
}

describe('the learner in the browser', { skip: missing }, () => {
  let dir: string;
  let context: BrowserContext;
  let page: Page;
  let url: string;
  let portal: Portal | undefined;
  let grafana: GrafanaStandIn | undefined;
  let variant: Running | undefined;

  before(async () => {
    if (STACK_URL === undefined) {
      // From a checkout the services' names do not resolve: the portal sends
      // hello-world-v3-1:8000 to the port docker-compose.yml publishes it on, here a
      // variant this test runs. No bombardier can be built here, so a labelled stand-in
      // is first on the terminals' PATH.
      assert.ok(await portFree(8000), 'page 03 runs the launcher on port 8000: free it first');
      variant = await launch(['hello-world-v3/app-1']);
      // The shells start in an empty HOME (startPortal), as a new learner's would.
      // No Grafana here: a labelled stand-in answers its health and dashboard pages, down
      // at first, so that the tab is seen to say so and then to show the dashboard.
      grafana = await startGrafanaStandIn(false);
      portal = await startPortal(
        ['--grafana-url', grafana.url, '--grafana-upstream', grafana.url],
        {
          PATH: `${join(ROOT, 'test/workshop/stand-ins')}:${process.env['PATH'] ?? ''}`,
          PORT_HELLO_WORLD_V3_1: new URL(variant.url).port,
        },
      );
      url = portal.url;
    } else url = STACK_URL.replace(/\/$/, '');
    dir = mkdtempSync(join(tmpdir(), 'portal-chromium-'));
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1500, height: 860 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => {
      process.stdout.write(`# page error: ${err.message}\n`);
    });
  });

  after(async () => {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
    await portal?.close();
    await grafana?.close();
    await variant?.stop();
  });

  const actions = () => page.locator('#page .action');
  const goTo = async (title: string): Promise<void> => {
    await page.locator('#page h1', { hasText: title }).waitFor({ timeout: 30_000 });
  };

  it("page 03: clicking its actions in order runs the hello world and shows 'Hello World!'", async () => {
    await page.goto(`${url}/`);
    await goTo('Overview');
    await page.click('#page-list summary');
    await page.click('a[data-page="03-testing-hello-world"]');
    await goTo('Testing the hello world');
    const count = await actions().count();
    for (let i = 0; i < count; i++) {
      const action = actions().nth(i);
      const kind = await action.getAttribute('data-action');
      const text = (await action.textContent()) ?? '';
      await action.scrollIntoViewIfNeeded();
      await action.click();
      if (/start-server/.test(text)) {
        await waitForTerminal(page, 1, /serving hello-world-v1 at http:\/\/127\.0\.0\.1:8000\//);
      } else if (/curl -s http:\/\/localhost:8000\/$/.test(text)) {
        await waitForTerminal(page, 2, /^Hello World!/m);
      } else if (/metrics/.test(text) && kind === 'terminal:execute') {
        await waitForTerminal(page, 2, /process_cpu_seconds_total/);
      } else if (kind === 'terminal:interrupt') {
        await waitForTerminal(page, 1, /stopping/);
      } else if (kind === 'editor:select-matching-text') {
        assert.match(
          (await page.locator('#editor .line.marked').first().textContent()) ?? '',
          /function helloWorld/,
        );
      }
      await sleep(300);
    }
    assert.match(await terminalText(page, 2), /^Hello World!/m);
  });

  it('page 06: the -c 1 -r 1 load runs on, Grafana and the code beside it, a reload keeps it, a dead shell is offered anew', async () => {
    for (const title of ['Timing the handler function', 'Streamed responses', 'Recording when']) {
      await page.click('#next');
      await goTo(title);
    }
    let loadClicked = 0;
    let selections = 0;
    for (let i = 0; ; i++) {
      const action = actions().nth(i);
      const kind = (await action.getAttribute('data-action')) ?? '';
      const text = (await action.textContent()) ?? '';
      await action.scrollIntoViewIfNeeded();
      await action.click();
      if (kind === 'editor:select-matching-text') {
        // The marked lines hold what the action selects.
        const body = JSON.parse((await action.getAttribute('data-body')) ?? '{}') as {
          text: string;
          isRegex?: boolean;
        };
        const marked = page.locator('#editor .line.marked');
        await marked.first().waitFor();
        const lines = (await marked.allTextContents()).map((l) => l.replace(/^\d+/, '')).join('\n');
        if (body.isRegex === true) assert.match(lines, new RegExp(body.text));
        else assert.ok(lines.includes(body.text), `${body.text} in ${lines}`);
        selections++;
      }
      if (/-c 1 -r 1 http:\/\//.test(text)) {
        loadClicked = Date.now();
        await waitForTerminal(page, 2, /Bombarding|bombarding/i);
      }
      if (kind.startsWith('dashboard:') && loadClicked > 0) {
        const want = '/d/raw-requests?var-variant=hello-world-v3-1';
        const link = (await page.locator('#grafana-link').getAttribute('href')) ?? '';
        assert.ok(link.includes(want), link);
        if (grafana !== undefined) {
          // Down: the tab says so. Up: within the 3 s it asks again, the dashboard.
          assert.equal(await grafanaTab(page, url), undefined);
          grafana.healthy = true;
          await page.locator('#grafana').waitFor({ state: 'visible', timeout: 30_000 });
          assert.ok(!(await page.locator('#grafana-down').isVisible()), 'the words are gone');
        }
        const src = await grafanaTab(page, url);
        if (src !== undefined) assert.ok(src.includes(want), src);
        break;
      }
      if (kind === 'terminal:execute' && /^Terminal 1/.test(text))
        await waitForTerminal(page, 1, /\+\+\+ apps\/hello-world-v3\/metrics\.ts/);
      await sleep(500);
    }
    assert.ok(loadClicked > 0, 'page 06 has the -c 1 -r 1 load before its dashboard');
    assert.ok(selections >= 2, 'page 06 selects the wrapper and its use');

    // Nothing interrupts the load until the learner clicks the interrupt: 10 s on, it runs.
    await sleep(Math.max(0, loadClicked + 10_000 - Date.now()));
    const running = await terminalText(page, 2);
    assert.doesNotMatch(running, /Done|\$ $/m, running);
    await page.click('#tabs button[data-tab="terminals"]');
    await page.locator('#page .action', { hasText: '-c 1 -r 1' }).scrollIntoViewIfNeeded();
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });

    // A reload reattaches: terminal 1 still holds the diff, the page is still page 06.
    const before = await terminalText(page, 1);
    await page.reload();
    await goTo('Recording when');
    const afterReload = await waitForTerminal(
      page,
      1,
      /\+\+\+ apps\/hello-world-v3\/metrics\.ts/,
      15_000,
    );
    assert.ok(before.includes('+++ apps/hello-world-v3/metrics.ts'));
    assert.ok(afterReload.length > 0);
    await waitForTerminal(page, 2, /Bombarding|bombarding/i, 15_000);

    // The page's interrupt stops it.
    await page.locator('#page .action[data-action="terminal:interrupt-all"]').first().click();
    await waitForTerminal(page, 2, /Done|Total|Statistics|\^C/, 15_000);

    // A shell that exits says so and offers a new one.
    await page.click('.terminal[data-session="2"] .screen');
    await page.keyboard.type('exit\n');
    const status = page.locator('.terminal[data-session="2"] .status');
    await status.locator('text=the shell exited').waitFor({ timeout: 15_000 });
    await status.locator('button', { hasText: 'Start a new shell' }).click();
    await status.locator('text=the shell exited').waitFor({ state: 'detached', timeout: 15_000 });
    await waitForTerminal(page, 2, /[$#] $/, 15_000);
    await page.click('.terminal[data-session="2"] .screen');
    await page.keyboard.type('echo new-shell-$((6 * 7))\n');
    await waitForTerminal(page, 2, /^new-shell-42$/m, 15_000);
  });
  it('page 07: names the CPU per request panel and its dashboard action opens it in the Grafana tab', async () => {
    await page.click('#next');
    await goTo('The cost of instrumentation');
    const panel = 'CPU per request by app service';
    assert.ok(((await page.locator('#page').textContent()) ?? '').includes(panel));
    const link = page.locator('#page .action[data-action^="dashboard:"]', {
      hasText: 'viewPanel=8',
    });
    assert.equal(await link.count(), 1, `one dashboard action opens panel 8, ${panel}`);
    await link.scrollIntoViewIfNeeded();
    await sleep(1000);
    await link.click();
    const href = (await page.locator('#grafana-link').getAttribute('href')) ?? '';
    assert.ok(href.includes('/d/process-info?') && href.includes('viewPanel=8'), href);
    const src = await grafanaTab(page, url);
    if (src !== undefined)
      assert.ok(src.includes('/d/process-info?') && src.includes('viewPanel=8'), src);
  });
});
