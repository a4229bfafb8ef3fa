import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkBombardier } from '../../portal/bombardier.js';
import { checkWorkshop, type Problem } from '../../portal/check.js';
import { ROOT } from '../helpers/servers.js';

const COPIED = ['apps', 'workshop', 'grafana', 'test', 'docker-compose.yml'];
const messages = (problems: Problem[]): string[] =>
  problems.map((p) => `${p.page}:${p.line}: ${p.message}`);

// A copy of what the pages point at, for a suite to break; removed after it.
function copyOfRepo(): () => string {
  let copy = '';
  before(() => {
    copy = mkdtempSync(join(tmpdir(), 'workshop-check-'));
    for (const path of COPIED) cpSync(join(ROOT, path), join(copy, path), { recursive: true });
  });
  after(() => {
    rmSync(copy, { recursive: true, force: true });
  });
  return () => copy;
}

describe('npm run workshop -- check', () => {
  const repo = copyOfRepo();

  const edit = (path: string, change: (text: string) => string): (() => void) => {
    const file = join(repo(), path);
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
      const found = messages(checkWorkshop(repo()));
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
    const file = join(repo(), 'apps/hello-world-v2/app-2.ts');
    const original = readFileSync(file, 'utf8');
    rmSync(file);
    try {
      const found = messages(checkWorkshop(repo()));
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
      const found = messages(checkWorkshop(repo()));
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
      const found = messages(checkWorkshop(repo()));
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
      const found = messages(checkWorkshop(repo()));
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
      const found = messages(checkWorkshop(repo()));
      assert.ok(
        found.some((m) => m.includes('has no test named "records nanoseconds while')),
        found.join('\n'),
      );
    } finally {
      undo();
    }
  });
});

describe('npm run workshop -- check, on the checks of the pages', () => {
  const repo = copyOfRepo();
  const page = (text: string): string[] => {
    writeFileSync(join(repo(), 'workshop', '13-extra.md'), `# Extra\n\n${text}`);
    try {
      return messages(checkWorkshop(repo())).filter((m) => m.startsWith('13-extra:'));
    } finally {
      rmSync(join(repo(), 'workshop', '13-extra.md'));
    }
  };
  const check = (fields: string): string => `\`\`\`examiner:execute-test\n${fields}\n\`\`\`\n\n`;

  it('accepts the fields of Educates, .INF and -1 retries included', () => {
    assert.deepEqual(
      page(
        check(
          "name: requests-arrived\ntitle: t\ndescription: d\nprefix: Check\nargs: [hello-world-v3-1, --rate, '250']\ntimeout: 30\nretries: .INF\ndelay: 5\nautostart: true\ncascade: true\npause: 0",
        ) + check('name: median-between\nretries: -1'),
      ),
      [],
    );
  });

  it("names a check's missing or unrunnable program, fields of the wrong type, and what the portal does not run", () => {
    chmodSync(join(repo(), 'workshop/examiner/tests/cpu-beside'), 0o644);
    const found = page(
      check('name: no-such-check') +
        check('name: cpu-beside') +
        check('name: median-between\nargs: [hello-world-v3-9, --max, 0.001]\ntimeout: soon') +
        check("name: median-between\nretries: 1.5\ncascade: 'yes'\nurl: http://x/") +
        check('title: nameless'),
    );
    assert.deepEqual(found, [
      '13-extra:3: examiner:execute-test: no check no-such-check in workshop/examiner/tests/',
      '13-extra:7: examiner:execute-test: cpu-beside is not executable (chmod +x workshop/examiner/tests/cpu-beside)',
      "13-extra:11: examiner:execute-test: args is a list of strings (quote numbers: '250')",
      '13-extra:11: examiner:execute-test: timeout is a number of seconds, 0 or more',
      '13-extra:11: examiner:execute-test: "hello-world-v3-9" names no compose service',
      '13-extra:17: examiner:execute-test: retries is a whole number, -1 or .INF',
      '13-extra:17: examiner:execute-test: cascade is true or false',
      "13-extra:17: examiner:execute-test: the portal does not run Educates' url",
      '13-extra:24: examiner:execute-test: a check needs the name of its program',
    ]);
  });

  it('names an exercise whose last load no check follows, and sections that do not pair up', () => {
    const load =
      '```terminal:execute\ncommand: bombardier -d 120s -c 1 -r 1 http://hello-world-v3-1:8000/\n```\n\n';
    assert.deepEqual(page(check('name: median-between') + load), [
      '13-extra:7: an exercise ends with a check: add an examiner:execute-test after its last load (workshop/README.md, "Checks")',
    ]);
    assert.deepEqual(page(load + check('name: median-between')), []);
    assert.deepEqual(
      page(
        '```section:begin\nname: a\ntitle: A\n```\n\n```section:begin\n```\n\n```section:end\nname: a\n```\n\n```section:begin\nopen: 1\n```\n',
      ),
      [
        '13-extra:11: section:end a closes no open section of that name (* is open)',
        '13-extra:3: section:begin a is never ended',
        '13-extra:8: section:begin * is never ended',
        '13-extra:15: section:begin * is never ended',
        '13-extra:15: section:begin: open is true or false',
      ],
    );
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
