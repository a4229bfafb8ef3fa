import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { GRAFANA_URL, educatesPage } from '../../educates/content.js';
import { educatesFiles, staleFiles } from '../../educates/outputs.js';
import { publishedPorts, rewriteServiceUrls } from '../../portal/services.js';
import { ROOT } from '../helpers/servers.js';

const options = { rewriteCommand: rewriteServiceUrls(publishedPorts(ROOT, {})) };
const page = (name: string): string => educatesPage(join(ROOT, 'workshop', `${name}.md`), options);

// The action blocks of a generated page, kind and body.
function actions(text: string): Array<{ kind: string; body: Record<string, unknown> }> {
  return [...text.matchAll(/^```([a-z]+:[a-z-]+)\n([\s\S]*?)^```$/gm)].map((m) => ({
    kind: m[1] ?? '',
    body: (parse(m[2] ?? '') ?? {}) as Record<string, unknown>,
  }));
}

describe('the content tree of the Educates form (npm run educates)', () => {
  let copy: string;
  before(() => {
    copy = mkdtempSync(join(tmpdir(), 'educates-content-'));
    for (const path of ['workshop', 'resources', 'docker-compose.yml', '.env', 'package.json'])
      cpSync(join(ROOT, path), join(copy, path), { recursive: true });
  });
  after(() => {
    rmSync(copy, { recursive: true, force: true });
  });

  it('is in sync with workshop/*.md, docker-compose.yml and .env', () => {
    assert.deepEqual(staleFiles(ROOT, educatesFiles(ROOT)), []);
  });

  it('is found out of date when a page changed and npm run educates was not run', () => {
    const file = join(copy, 'workshop', '04-timing-wrapper.md');
    writeFileSync(file, readFileSync(file, 'utf8') + '\nOne more line.\n');
    assert.deepEqual(staleFiles(copy, educatesFiles(copy)), [
      'workshop/content/04-timing-wrapper.md',
    ]);
    writeFileSync(join(copy, 'workshop', 'content', '99-gone.md'), '');
    assert.ok(staleFiles(copy, educatesFiles(copy)).includes('workshop/content/99-gone.md'));
  });

  it('gives the title as front matter and drops the heading the renderer shows itself', () => {
    const text = page('03-testing-hello-world');
    assert.match(text, /^---\ntitle: Testing the hello world\n---\n\nThe first variant/);
    assert.doesNotMatch(text, /^# /m);
  });

  it("points {{grafana_url}} at the Grafana ingress, with Educates' data variables", () => {
    const urls = actions(page('06-response-completion'))
      .filter((a) => a.kind === 'dashboard:reload-dashboard')
      .map((a) => String(a.body['url']));
    assert.ok(urls.length > 0);
    for (const url of urls) assert.ok(url.startsWith(`${GRAFANA_URL}/d/`), url);
    assert.equal(
      GRAFANA_URL,
      '{{< param ingress_protocol >}}://grafana-{{< param session_name >}}.{{< param ingress_domain >}}{{< param ingress_port_suffix >}}',
    );
  });

  it("opens files in the editor under the session's home directory", () => {
    const files = actions(page('06-response-completion'))
      .filter((a) => a.kind.startsWith('editor:'))
      .map((a) => a.body['file']);
    assert.ok(files.includes('~/apps/hello-world-v3/metrics.ts'), files.join(' '));
    assert.ok(files.every((f) => typeof f === 'string' && f.startsWith('~/apps/')));
  });

  it('sends service URLs to the ports the services publish on 127.0.0.1, and keeps the terminal', () => {
    const loads = actions(page('06-response-completion')).filter(
      (a) => a.kind === 'terminal:execute',
    );
    assert.ok(
      loads.some(
        (a) =>
          a.body['command'] === 'bombardier -d 120s -c 1 -r 1 http://127.0.0.1:8031/' &&
          a.body['session'] === 2,
      ),
    );
    assert.ok(!loads.some((a) => /\/\/hello-world-v[\d-]+:8000/.test(String(a.body['command']))));
    assert.ok(page('03-testing-hello-world').includes('command: curl -s http://localhost:8000/'));
  });

  it('leaves out the text marked for the portal only, and shows the text marked for Educates', () => {
    const source = readFileSync(join(ROOT, 'workshop', '02-setup.md'), 'utf8');
    assert.ok(source.includes('docker compose up -d'));
    const text = page('02-setup');
    assert.doesNotMatch(text, /docker compose|localhost:8080|<!--/);
    assert.match(text, /Your session started the whole environment for you/);
    assert.ok(text.includes('command: curl -s http://127.0.0.1:8001/'));
  });

  it('links a page by its address in the session, and a file of the repository by its path', () => {
    const text = page('11-recording-cheaply');
    assert.match(text, /\]\(\.\.\/07-overhead-baseline\/\)/);
    assert.match(text, /Tested by `test\/lib\/counted-histogram\.test\.ts` "/);
    assert.doesNotMatch(text, /\]\(\.\.\/(test|bench)\//);
  });

  it('carries examiner and section blocks through with their fields', () => {
    const file = join(copy, 'workshop', '50-checks.md');
    writeFileSync(
      file,
      [
        '# Checks',
        '',
        '```section:begin',
        'name: check',
        'title: Did it work?',
        '```',
        '',
        '```examiner:execute-test',
        'name: page-06',
        'args: [hello-world-v3-1, "http://hello-world-v3-1:8000/"]',
        'retries: .INF',
        'delay: 5',
        'autostart: true',
        '```',
        '',
        '```section:end',
        'name: check',
        '```',
        '',
      ].join('\n'),
    );
    const found = actions(educatesPage(file, options));
    rmSync(file);
    assert.deepEqual(found, [
      { kind: 'section:begin', body: { name: 'check', title: 'Did it work?' } },
      {
        kind: 'examiner:execute-test',
        body: {
          name: 'page-06',
          args: ['hello-world-v3-1', 'http://127.0.0.1:8031/'],
          retries: Infinity,
          delay: 5,
          autostart: true,
        },
      },
      { kind: 'section:end', body: { name: 'check' } },
    ]);
  });

  it('refuses an image, which the session would not find, and an action only Educates would show', () => {
    const file = join(copy, 'workshop', '51-bad.md');
    writeFileSync(file, '# Bad\n\n![a figure](figures/portal.png)\n');
    assert.throws(
      () => educatesPage(file, options),
      /51-bad\.md: images are not carried to Educates yet/,
    );
    writeFileSync(
      file,
      '# Bad\n\n<!-- educates: add\n```terminal:execute\ncommand: true\n```\n-->\n',
    );
    assert.throws(() => educatesPage(file, options), /51-bad\.md:3: an action in/);
    rmSync(file);
  });
});
