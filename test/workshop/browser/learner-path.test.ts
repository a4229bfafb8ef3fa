// The learner's path through the portal in a real headless Chromium (Debian's, driven by
// playwright-core; never a downloaded browser), clicking as a person does and waiting as a
// person waits. From a checkout it starts the portal itself, the services pages 03 to 07 load
// and a real Prometheus scraping them; with WORKSHOP_URL it walks the portal of a running
// compose stack (npm run test:compose). Each page's checks pass after its load, and the page
// is ticked; a check run before its load fails and says what to do.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, type Running, launch } from '../../../harness/servers.js';
import { type Prometheus, prometheusTool, startPrometheus } from '../../helpers/prometheus.js';
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

// The services pages 03 to 07 use, as docker-compose.yml runs them (from a checkout).
const SERVICES: Record<string, string> = {
  'hello-world-v1': 'hello-world-v1',
  'hello-world-v2-1': 'hello-world-v2/app-1',
  'hello-world-v2-2': 'hello-world-v2/app-2',
  'hello-world-v3-1': 'hello-world-v3/app-1',
  'hello-world-v3-2': 'hello-world-v3/app-2',
};

const missing = !existsSync(CHROMIUM)
  ? `no ${CHROMIUM} (apt-get install chromium); the browser tests need Debian's Chromium`
  : STACK_URL === undefined &&
      prometheusTool('prometheus') === 'prometheus' &&
      !onPath('prometheus')
    ? 'no prometheus (bash scripts/install-tools.sh, or apt-get install prometheus): the checks ask one'
    : undefined;
if (missing !== undefined && process.env['CI'] === 'true') throw new Error(missing);
if (missing !== undefined) process.stdout.write(`# skipped: ${missing}\n`);

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

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
  let services: Running[] = [];
  let prometheus: Prometheus | undefined;

  before(async () => {
    if (STACK_URL === undefined) {
      // From a checkout the services' names do not resolve: the portal sends
      // hello-world-v3-1:8000 to the port docker-compose.yml publishes it on, here a
      // variant this test runs, and the checks to this test's Prometheus. No bombardier can
      // be built here, so a labelled stand-in is first on the terminals' PATH.
      assert.ok(await portFree(8000), 'page 03 runs the launcher on port 8000: free it first');
      const names = Object.keys(SERVICES);
      services = await Promise.all(names.map((n) => launch([SERVICES[n] ?? ''])));
      prometheus = await startPrometheus(
        Object.fromEntries(names.map((n, i) => [n, services[i]?.url ?? ''])),
      );
      const ports = Object.fromEntries(
        names.map((n, i) => [
          `PORT_${n.toUpperCase().replaceAll('-', '_')}`,
          new URL(services[i]?.url ?? '').port,
        ]),
      );
      // The shells start in an empty HOME (startPortal), as a new learner's would.
      // No Grafana here: a labelled stand-in answers its health and dashboard pages, down
      // at first, so that the tab is seen to say so and then to show the dashboard.
      grafana = await startGrafanaStandIn(false);
      portal = await startPortal(
        ['--grafana-url', grafana.url, '--grafana-upstream', grafana.url],
        {
          PATH: `${join(ROOT, 'test/workshop/stand-ins')}:${process.env['PATH'] ?? ''}`,
          ...ports,
          PROMETHEUS_PORT: new URL(prometheus.url).port,
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
    await prometheus?.stop();
    await Promise.all(services.map((v) => v.stop()));
  });

  const actions = () => page.locator('#page .action');
  const goTo = async (title: string): Promise<void> => {
    await page.locator('#page h1', { hasText: title }).waitFor({ timeout: 30_000 });
  };
  const action = (text: string) => page.locator('#page .action', { hasText: text }).first();
  const check = (n: number) =>
    page.locator('#page .action[data-action="examiner:execute-test"]').nth(n);

  // What a check came to, once it has: passed or failed, and what it printed.
  const settled = async (n: number, ms = 60_000): Promise<{ state: string; output: string }> => {
    const end = Date.now() + ms;
    for (;;) {
      const state = /\b(passed|failed)\b/.exec((await check(n).getAttribute('class')) ?? '')?.[1];
      if (state !== undefined)
        return { state, output: (await check(n).locator('.check-output').textContent()) ?? '' };
      if (Date.now() > end) throw new Error(`check ${n} never settled`);
      await sleep(250);
    }
  };

  // A learner clicks a check, and again a few seconds after it says "not yet", as long as a
  // load of 30 s takes to show in Prometheus; a cascade runs the checks after it.
  const passes = async (n: number, cascade = 0, ms = 150_000): Promise<void> => {
    const end = Date.now() + ms;
    for (;;) {
      await check(n).scrollIntoViewIfNeeded();
      await check(n).click();
      const { state, output } = await settled(n);
      if (state === 'passed') {
        process.stdout.write(`# check passed: ${output}\n`);
        break;
      }
      if (Date.now() > end) throw new Error(`check ${n} failed: ${output}`);
      await sleep(5000);
    }
    for (let i = 1; i <= cascade; i++) {
      const { state, output } = await settled(n + i);
      assert.equal(state, 'passed', `check ${n + i}, started by the cascade: ${output}`);
    }
  };
  // The page's load, in terminal 2; then its checks until they pass, the page ticked, and
  // the load stopped.
  const loadThenPass = async (load: string, n: number, cascade: number, name: string) => {
    await action(load).click();
    await waitForTerminal(page, 2, /Bombarding|bombarding/i);
    await passes(n, cascade);
    await ticked(name);
    await page.locator('#page .action[data-action="terminal:interrupt-all"]').first().click();
  };
  const ticked = async (name: string): Promise<void> => {
    await page
      .locator(`#page-list a[data-page="${name}"].done`)
      .waitFor({ state: 'attached', timeout: 15_000 });
  };

  it("page 03: clicking its actions in order runs the hello world and shows 'Hello World!'; its check passes and the page is ticked", async () => {
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
    const { state, output } = await settled(0);
    assert.equal(state, 'passed', output);
    assert.match(output, /^Prometheus scrapes hello-world-v1 every \d+ s: up/);
    await ticked('03-testing-hello-world');
  });

  it("page 04: after the page's load its checks pass, one starting the next, and the page is ticked", async () => {
    await page.click('#next');
    await goTo('Timing the handler function');
    await loadThenPass('-c 3 -r 250 http://', 0, 1, '04-timing-wrapper');
  });

  it('page 05: a check before the load fails and says what to do; after it, it passes', async () => {
    await page.click('#next');
    await goTo('Streamed responses');
    await check(0).scrollIntoViewIfNeeded();
    await check(0).click();
    const before = await settled(0);
    assert.equal(before.state, 'failed');
    assert.match(
      before.output,
      /^no request reached hello-world-v2-2 in the last 2 minutes: run the bombardier step above, then check again\.$/,
    );
    assert.match(
      (await check(0).locator('.check-status').textContent()) ?? '',
      /^Failed: failed \(exit 1\)/,
    );
    await loadThenPass('-c 1 -r 1 http://', 0, 1, '05-streamed-responses');
  });

  it('page 06: the -c 1 -r 1 load runs on, Grafana and the code beside it, a reload keeps it, a dead shell is offered anew', async () => {
    await page.click('#next');
    await goTo('Recording when');
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
    // (Terminal 2 ran the loads of pages 04 and 05 before: only this page's counts.)
    const all = await terminalText(page, 2);
    const running = all.slice(all.lastIndexOf('Bombarding'));
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

    // 10 s of one request a second: the check finds their median about 50 ms.
    await passes(0);
    assert.match(
      (await settled(0)).output,
      /^hello-world-v3-1 recorded \d+ requests in the last 2 minutes; their median, [\d.]+ ms, is between 45 ms and 70 ms\.$/,
    );

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

    // The plain hello world under the first load: its checks pass and the page is ticked.
    await loadThenPass('-c 3 -r 250 http://', 1, 1, '06-response-completion');
  });
  it('page 07: names the CPU per request panel and its dashboard action opens it in the Grafana tab; after both loads its checks pass', async () => {
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

    // Both loads at once: hello-world-v3-2 counts them, hello-world-v1 shows them in its CPU.
    const loads = page.locator('#page .action[data-action="terminal:execute"]');
    await loads.nth(0).scrollIntoViewIfNeeded();
    for (const [i, terminal] of [
      [0, 2],
      [1, 3],
    ] as const) {
      const url = /http:\/\/\S+/.exec((await loads.nth(i).textContent()) ?? '')?.[0] ?? '';
      await loads.nth(i).click();
      await waitForTerminal(
        page,
        terminal,
        new RegExp(`Bombarding ${url.replaceAll('.', '\\.')}`, 'i'),
      );
    }
    await passes(0, 1);
    await ticked('07-overhead-baseline');
    await page.locator('#page .action[data-action="terminal:interrupt-all"]').first().click();
  });

  it('a reload keeps the ticks of the pages whose checks passed, and what each check said', async () => {
    await page.reload();
    await goTo('The cost of instrumentation');
    for (const name of [
      '03-testing-hello-world',
      '04-timing-wrapper',
      '05-streamed-responses',
      '06-response-completion',
      '07-overhead-baseline',
    ])
      await ticked(name);
    assert.equal(await page.locator('#page-list a.done').count(), 5);
    assert.equal((await settled(1, 15_000)).state, 'passed');
  });
});
