import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkBombardier } from '../../portal/bombardier.js';
import { checkWorkshop, type Problem } from '../../portal/check.js';
import { ROOT } from '../helpers/servers.js';

const COPIED = ['apps', 'workshop', 'grafana', 'test', 'docker-compose.yml'];
const messages = (problems: Problem[]): string[] =>
  problems.map((p) => `${p.page}:${p.line}: ${p.message}`);

describe('npm run workshop -- check', () => {
  let copy: string;
  before(() => {
    copy = mkdtempSync(join(tmpdir(), 'workshop-check-'));
    for (const path of COPIED) cpSync(join(ROOT, path), join(copy, path), { recursive: true });
  });
  after(() => {
    rmSync(copy, { recursive: true, force: true });
  });

  const edit = (path: string, change: (text: string) => string): (() => void) => {
    const file = join(copy, path);
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, change(original));
    return () => {
      writeFileSync(file, original);
    };
  };

  it('finds nothing wrong with the real pages', () => {
    assert.deepEqual(messages(checkWorkshop(ROOT)), []);
  });

  it('names page and line when a function the pages select is renamed', () => {
    const undo = edit('apps/hello-world-v3/metrics.ts', (t) =>
      t.replace('export function application(', 'export function wrapApplication('),
    );
    try {
      const found = messages(checkWorkshop(copy));
      assert.ok(
        found.some((m) =>
          /^06-response-completion:\d+: editor:select-matching-text: apps\/hello-world-v3\/metrics\.ts has no text matching/.test(
            m,
          ),
        ),
        found.join('\n'),
      );
    } finally {
      undo();
    }
  });

  it('names the missing file when a file the pages open is gone', () => {
    const file = join(copy, 'apps/hello-world-v2/app-2.ts');
    const original = readFileSync(file, 'utf8');
    rmSync(file);
    try {
      const found = messages(checkWorkshop(copy));
      assert.ok(
        found.some(
          (m) =>
            m.startsWith('05-streamed-responses:') &&
            m.includes('no file apps/hello-world-v2/app-2.ts'),
        ),
        found.join('\n'),
      );
    } finally {
      writeFileSync(file, original);
    }
  });

  it('names the dashboard uid when a link points at a dashboard that does not exist', () => {
    const undo = edit('grafana/dashboards/raw-requests.json', (t) =>
      t.replace('"uid": "raw-requests"', '"uid": "raw-requests-renamed"'),
    );
    try {
      const found = messages(checkWorkshop(copy));
      assert.ok(
        found.some((m) => m.includes('no dashboard with uid "raw-requests"')),
        found.join('\n'),
      );
    } finally {
      undo();
    }
  });

  it('names the service when a command names one the compose file lacks', () => {
    const undo = edit('workshop/06-response-completion.md', (t) =>
      t.replace('http://hello-world-v3-1:8000/', 'http://hello-world-v3-9:8000/'),
    );
    try {
      const found = messages(checkWorkshop(copy));
      assert.ok(
        found.some((m) =>
          m.includes("bombardier's target http://hello-world-v3-9:8000/ names no compose service"),
        ),
        found.join('\n'),
      );
    } finally {
      undo();
    }
  });

  it('refuses a step that runs Docker or a tool the workstation does not have', () => {
    const undo = edit('workshop/06-response-completion.md', (t) =>
      t.replace(
        'command: diff -u apps/hello-world-v2/metrics.ts',
        'command: docker compose up -d hello-world-v3-1\n```\n\n```terminal:execute\ncommand: wget -qO- http://hello-world-v3-1:8000/ && diff -u apps/hello-world-v2/metrics.ts',
      ),
    );
    try {
      const found = messages(checkWorkshop(copy));
      assert.ok(
        found.some((m) => /terminal:execute: the workstation has no Docker/.test(m)),
        found.join('\n'),
      );
      assert.ok(
        found.some((m) => m.includes('"wget" is not a tool of the workstation')),
        found.join('\n'),
      );
    } finally {
      undo();
    }
  });

  it('names the test when a page cites a test that does not exist', () => {
    const undo = edit('workshop/05-streamed-responses.md', (t) =>
      t.replace('records microseconds while', 'records nanoseconds while'),
    );
    try {
      const found = messages(checkWorkshop(copy));
      assert.ok(
        found.some((m) => m.includes('has no test named "records nanoseconds while')),
        found.join('\n'),
      );
    } finally {
      undo();
    }
  });
});

describe("bombardier's flags", () => {
  it('accepts the loads the pages send', () => {
    assert.deepEqual(checkBombardier(['-d', '120s', '-c', '3', '-r', '250', 'http://x:8000/']), {
      problems: [],
      urls: ['http://x:8000/'],
    });
    assert.deepEqual(
      checkBombardier(['--duration=2m', '--connections', '1', '-l', 'http://x/']).problems,
      [],
    );
  });

  it('refuses a flag it does not have and values it would refuse', () => {
    assert.deepEqual(checkBombardier(['-x', '-c', '0', '-d', '120', 'http://x/']).problems, [
      'bombardier has no flag -x',
      'bombardier\'s --connections takes a positive whole number, not "0"',
      'bombardier\'s --duration takes a duration such as 120s, not "120"',
    ]);
    assert.deepEqual(checkBombardier(['-c', '3']).problems, ['bombardier takes one URL, not 0']);
  });
});
