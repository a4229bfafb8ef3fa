// The Grafana tab in a real headless Chromium (Debian's, driven by playwright-core), where
// Grafana is served: on the portal's own origin under /grafana/ (a dev container), or on a
// codespace's other forwarded port, whose sign-in page cannot be framed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { type Portal, startPortal } from '../../../harness/portal.js';
import { startGrafanaStandIn } from '../grafana-stand-in.js';

const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM)
  ? undefined
  : `no ${CHROMIUM} (apt-get install chromium); the browser tests need Debian's Chromium`;
if (missing !== undefined && process.env['CI'] === 'true') throw new Error(missing);
if (missing !== undefined) process.stdout.write(`# skipped: ${missing}\n`);

describe('the Grafana tab in Chromium', { skip: missing }, () => {
  let dir: string;
  let context: BrowserContext;
  let page: Page;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'grafana-tab-chromium-'));
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    page = context.pages()[0] ?? (await context.newPage());
  });
  after(async () => {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows a dashboard served on the portal's own origin under /grafana/, with no note", async () => {
    // The labelled stand-in for Grafana (no Grafana binary here), healthy.
    const grafana = await startGrafanaStandIn();
    const upstream = grafana.url;
    let portal: Portal | undefined;
    try {
      portal = await startPortal([], { GRAFANA_URL: '/grafana', GRAFANA_UPSTREAM: upstream });
      await page.goto(`${portal.url}/#06-response-completion`);
      await page.locator('#page .action[data-action^="dashboard:"]').first().click();
      const frame = page.frameLocator('#grafana');
      await frame.locator('#path').waitFor({ timeout: 30_000 });
      assert.match(
        (await frame.locator('#path').textContent()) ?? '',
        /^\/grafana\/d\/raw-requests\?/,
      );
      assert.equal(await page.locator('#grafana-note').isVisible(), false);
    } finally {
      await portal?.close();
      await grafana.close();
    }
  });

  it("in a codespace, says that Grafana's own forwarded port must first be opened in its own tab", async () => {
    const portal = await startPortal([], {
      CODESPACES: 'true',
      CODESPACE_NAME: 'octocat-space',
      GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN: 'app.github.dev',
    });
    try {
      await page.goto(`${portal.url}/`);
      await page.locator('#tabs button[data-tab="grafana"]').click();
      assert.equal(
        await page.locator('#grafana-link').getAttribute('href'),
        'https://octocat-space-3000.app.github.dev',
      );
      assert.ok(await page.locator('#grafana-note').isVisible());
      assert.match(
        (await page.locator('#grafana-note').textContent()) ?? '',
        /open it in its own tab once/,
      );
    } finally {
      await portal.close();
    }
  });
});
