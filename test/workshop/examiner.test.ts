// The portal's runner for checks (examiner:execute-test), on real processes: the fixture
// programs of test/fixtures/examiner/, on pages written into a workshop of the test's own.
import assert from 'node:assert/strict';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { findCheck, runCheck } from '../../portal/examiner.js';
import { dispatch } from '../../portal/examiner-socket.js';
import { listPages, parsePage } from '../../portal/pages.js';
import { createRenderer } from '../../portal/render.js';
import { LOCAL_HOSTS } from '../../portal/security.js';
import { createPortal } from '../../portal/server.js';
import { createTerminals, loadPty } from '../../portal/terminals.js';
import {
  type CheckReport,
  type ExaminerMessage,
  createExaminer,
} from '../../portal/examiner-session.js';
import { ROOT } from '../helpers/servers.js';
import { freePort } from '../helpers/stack.js';

const ENV = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmpdir(), LANG: 'C.UTF-8' };

// A process is gone when /proc has no entry for it, or only a zombie's waiting to be reaped.
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

async function until<T>(what: string, get: () => T | undefined, ms = 30_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    const value = get();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`never: ${what}`);
}

describe('the examiner runs a check program', () => {
  let root: string;
  let tests: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'examiner-'));
    tests = join(root, 'workshop', 'examiner', 'tests');
    mkdirSync(tests, { recursive: true });
    cpSync(join(ROOT, 'test/fixtures/examiner'), tests, { recursive: true });
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });
  const run = (name: string, args: string[] = [], timeoutSeconds = 15) =>
    runCheck({ program: findCheck(tests, name), args, timeoutSeconds, env: ENV, cwd: root });

  it('passes when the program exits 0, showing what it printed', async () => {
    assert.deepEqual(await run('pass', ['a', 'b c']), {
      passed: true,
      status: 'passed',
      output: 'all good: a b c',
    });
  });

  it('fails when the program exits 1, showing its last 20 lines', async () => {
    const result = await run('fail');
    assert.equal(result.passed, false);
    assert.equal(result.status, 'failed (exit 1)');
    const lines = result.output.split('\n');
    assert.equal(lines.length, 21);
    assert.deepEqual(lines.slice(0, 2), ['…', 'noise 12']);
    assert.equal(lines[20], 'no request reached the service: run the step above');
  });

  it('kills a program past its time limit, and what it started with it', async () => {
    const pids = join(root, 'hang.pids');
    const result = await run('hang', [pids], 1);
    assert.deepEqual(result, {
      passed: false,
      status: 'stopped after 1 s (its time limit)',
      output: '',
    });
    const [shell = 0, child = 0] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
    assert.ok(shell > 0 && child > 0);
    await until('the check and its child are gone', () =>
      gone(shell) && gone(child) ? true : undefined,
    );
  });

  it('keeps a bounded tail of megabytes of output: the last lines', async () => {
    const result = await run('flood');
    assert.equal(result.passed, true);
    assert.ok(result.output.length < 10_000, `${result.output.length} characters`);
    assert.ok(result.output.startsWith('…\n'));
    assert.ok(result.output.endsWith('\nthe last line'));
  });

  it('gives the program only the environment it is given', async () => {
    process.env['EXAMINER_TEST_LEAK'] = 'no';
    try {
      const names = (await run('env')).output.split('\n');
      assert.ok(!names.includes('EXAMINER_TEST_LEAK'), names.join(' '));
      for (const name of ['HOME', 'LANG', 'PATH']) assert.ok(names.includes(name), name);
    } finally {
      delete process.env['EXAMINER_TEST_LEAK'];
    }
  });

  it('finds only executables inside workshop/examiner/tests', () => {
    writeFileSync(join(tests, 'not-executable'), '#!/bin/sh\n');
    chmodSync(join(tests, 'not-executable'), 0o644);
    assert.throws(() => findCheck(tests, 'not-executable'), /is not executable \(chmod \+x/);
    assert.throws(() => findCheck(tests, '../../../etc/passwd'), /is not a check's name/);
    assert.throws(() => findCheck(tests, 'x;rm'), /is not a check's name/);
    assert.throws(() => findCheck(tests, 'nope'), /no check nope/);
    assert.equal(findCheck(tests, 'pass'), join(tests, 'pass'));
  });
});

describe('the examiner on a page, as a browser shows it', () => {
  let root: string;
  let dir: string;
  const page = (name: string, markdown: string): void => {
    writeFileSync(join(root, 'workshop', `${name}.md`), markdown);
  };
  const check = (name: string, fields: string): string =>
    `\`\`\`examiner:execute-test\nname: ${name}\n${fields}\n\`\`\`\n\n`;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'examiner-pages-'));
    dir = join(root, 'tries');
    mkdirSync(dir);
    const tests = join(root, 'workshop', 'examiner', 'tests');
    mkdirSync(tests, { recursive: true });
    cpSync(join(ROOT, 'test/fixtures/examiner'), tests, { recursive: true });
    page(
      '01-retries',
      '# Retries\n\n' +
        check('flaky', `args: ['${dir}/flaky', '3']\nretries: 3\ndelay: 1`) +
        check('slow-fail', `args: ['${dir}/slow']\nretries: .INF\ndelay: 0.1`),
    );
    page(
      '02-cascade',
      '# Cascade\n\n' +
        check('pass', 'args: [first]\ncascade: true\npause: 0') +
        check('pass', 'args: [second]') +
        check('fail', 'cascade: true') +
        check('pass', 'args: [never]') +
        check('pass', 'args: [third]\ncascade: true\npause: 0') +
        '```terminal:execute\ncommand: echo cascaded\n```\n',
    );
    page(
      '03-autostart',
      '# Autostart\n\n' +
        check('pass', 'args: [top]\nautostart: true') +
        '```section:begin\nname: closed\n```\n\n' +
        check('pass', 'args: [closed]\nautostart: true') +
        '```section:end\nname: closed\n```\n\n' +
        '```section:begin\nname: open\nopen: true\n```\n\n' +
        check('pass', 'args: [open]\nautostart: true') +
        '```section:end\nname: open\n```\n\n' +
        check('pass', 'args: [clicked]'),
    );
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  // Every session a test opened is closed after it, whatever happened: a check with retries
  // .INF would otherwise run on.
  const open: Array<() => void> = [];
  afterEach(() => {
    for (const close of open.splice(0)) close();
  });
  const browser = (examiner: ReturnType<typeof createExaminer>) => {
    const seen: Array<Record<string, unknown>> = [];
    const session = examiner.connect((m) => seen.push(m as Record<string, unknown>));
    open.push(session.close);
    // The tests name a page's actions by their order; the examiner knows them by line.
    const reports = (page: string, index: number): CheckReport[] =>
      seen.filter(
        (m) => m['t'] === 'check' && m['page'] === page && m['line'] === lineOf(page, index),
      ) as unknown as CheckReport[];
    const settled = (page: string, index: number): Promise<CheckReport> =>
      until(`${page} #${index} settles`, () =>
        reports(page, index).find((r) => r.state === 'passed' || r.state === 'failed'),
      );
    return {
      seen,
      reports,
      settled,
      send: (m: ExaminerMessage) => {
        session.handle(m);
      },
      run: (page: string, index: number) => {
        session.handle({ t: 'run', page, line: lineOf(page, index) });
      },
      expand: (page: string, index: number) => {
        session.handle({ t: 'expand', page, line: lineOf(page, index) });
      },
      close: session.close,
    };
  };
  const examinerFor = () => createExaminer({ root, env: ENV, cwd: root, rewriteArg: (a) => a });
  const lineOf = (page: string, index: number): number => {
    const actions = parsePage(join(root, 'workshop', `${page}.md`)).blocks.flatMap((b) =>
      b.type === 'action' ? [b.action] : [],
    );
    return actions[index]?.line ?? 0;
  };

  it('tries a failed check again `retries` times, `delay` seconds apart, until it passes', async () => {
    const b = browser(examinerFor());
    b.send({ t: 'page', page: '01-retries' });
    b.run('01-retries', 0);
    const last = await b.settled('01-retries', 0);
    assert.equal(last.state, 'passed');
    assert.equal(last.output, 'passed on try 3');
    assert.deepEqual(
      b.reports('01-retries', 0).map((r) => `${r.state} ${r.attempt}/${r.of ?? ''}`),
      ['running 1/4', 'waiting 1/4', 'running 2/4', 'waiting 2/4', 'running 3/4', 'passed 3/4'],
    );
    const times = readFileSync(join(dir, 'flaky'), 'utf8').trim().split('\n').map(Number);
    for (let i = 1; i < times.length; i++)
      assert.ok(
        (times[i] ?? 0) - (times[i - 1] ?? 0) >= 0.99,
        `the delay between tries ${i} and ${i + 1}`,
      );
    b.close();
  });

  it('with retries .INF tries until the page is left, then stops and kills the try under way', async () => {
    const examiner = examinerFor();
    const b = browser(examiner);
    b.send({ t: 'page', page: '01-retries' });
    b.run('01-retries', 1);
    const file = join(dir, 'slow');
    const tries = (): number[] =>
      existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map(Number) : [];
    await until('three tries', () => (tries().length >= 3 ? true : undefined));
    assert.ok(b.reports('01-retries', 1).every((r) => r.of === null && r.state !== 'failed'));
    b.send({ t: 'page', page: '02-cascade' });
    const left = tries();
    await until('the try under way is killed', () =>
      gone(left[left.length - 1] ?? 0) ? true : undefined,
    );
    await sleep(1500); // three delays and a try's length: a try that followed would show
    assert.deepEqual(tries(), left);
    // A browser that shows the page again is not told of a try that no longer runs.
    const again = browser(examiner);
    again.send({ t: 'page', page: '01-retries' });
    assert.deepEqual(again.reports('01-retries', 1), []);
    b.close();
  });

  it('with cascade, a check that passes starts the next action; one that fails does not', async () => {
    const b = browser(examinerFor());
    b.send({ t: 'page', page: '02-cascade' });
    b.run('02-cascade', 0);
    assert.equal((await b.settled('02-cascade', 1)).output, 'all good: second');
    b.run('02-cascade', 2);
    assert.equal((await b.settled('02-cascade', 2)).state, 'failed');
    // The next action after a passing check is the browser's to perform: a terminal here.
    b.run('02-cascade', 4);
    await until('the terminal action is triggered', () =>
      b.seen.find((m) => m['t'] === 'trigger' && m['line'] === lineOf('02-cascade', 5)),
    );
    assert.deepEqual(b.reports('02-cascade', 3), [], 'the check after a failure never ran');
    b.close();
  });

  it('with autostart, runs checks when the page is shown, and those of a closed section when it opens', async () => {
    const b = browser(examinerFor());
    b.send({ t: 'page', page: '03-autostart' });
    assert.equal((await b.settled('03-autostart', 0)).output, 'all good: top');
    assert.equal((await b.settled('03-autostart', 5)).output, 'all good: open');
    await sleep(500);
    assert.deepEqual(b.reports('03-autostart', 2), [], 'not in a closed section');
    assert.deepEqual(b.reports('03-autostart', 7), [], 'not without autostart');
    b.expand('03-autostart', 1);
    assert.equal((await b.settled('03-autostart', 2)).output, 'all good: closed');
    b.close();
  });

  it('marks a page done once all its checks passed, for every browser, and says so to one that comes later', async () => {
    const examiner = examinerFor();
    const b = browser(examiner);
    const progress = (x: typeof b): unknown =>
      x.seen.filter((m) => m['t'] === 'progress').at(-1)?.['done'];
    b.send({ t: 'page', page: '03-autostart' });
    await b.settled('03-autostart', 5);
    assert.deepEqual(progress(b), []);
    b.expand('03-autostart', 1);
    await b.settled('03-autostart', 2);
    b.run('03-autostart', 7);
    await b.settled('03-autostart', 7);
    await until('the page is done', () =>
      (progress(b) as string[]).includes('03-autostart') ? true : undefined,
    );
    const later = browser(examiner);
    later.send({ t: 'page', page: '01-retries' });
    assert.deepEqual(progress(later), ['03-autostart']);
    b.close();
    later.close();
  });

  it('acts on a message from the network only once it is shaped as one', () => {
    const handled: ExaminerMessage[] = [];
    const session = {
      handle: (m: ExaminerMessage) => handled.push(m),
      close: () => undefined,
    };
    const send = (data: string, binary = false) => dispatch(session, Buffer.from(data), binary);
    assert.deepEqual(send('{"t":"run","page":"06-response-completion","line":3}'), { ok: true });
    assert.deepEqual(handled, [{ t: 'run', page: '06-response-completion', line: 3 }]);
    for (const [data, why] of [
      ['not json', /^not JSON$/],
      ['[1]', /^not a JSON object$/],
      ['{"t":"kill","page":"06-x"}', /^no such message type$/],
      ['{"t":"run","page":"../../etc/passwd","line":1}', /^run: \/page must match pattern/],
      ['{"t":"run","page":"06-x","line":1.5}', /^run: \/line must be integer$/],
      ['{"t":"run","page":"06-x","line":0}', /^run: \/line must be >= 1$/],
      ['{"t":"expand","page":"06-x","line":1e9}', /^expand: \/line must be <= 100000$/],
      ['{"t":"run","page":"06-x"}', /^run: the message must have required property 'line'$/],
      [
        '{"t":"page","page":"06-x","pad":1}',
        /^page: the message must NOT have additional properties$/,
      ],
    ] as const) {
      const outcome = send(data);
      assert.ok(!outcome.ok && 'reason' in outcome, data);
      assert.match(outcome.reason, why, data);
    }
    assert.deepEqual(send('{"t":"page","page":"06-x"}', true), {
      ok: false,
      reason: 'binary frames are not accepted',
    });
    assert.equal(handled.length, 1, 'nothing refused reached the examiner');

    // Shaped right, but not an action of the page shown.
    const b = browser(examinerFor());
    b.run('02-cascade', 0);
    b.send({ t: 'page', page: '02-cascade' });
    b.run('02-cascade', 5);
    b.send({ t: 'run', page: '02-cascade', line: 99 });
    b.send({ t: 'page', page: '09-none' });
    assert.deepEqual(
      b.seen.filter((m) => m['t'] === 'error').map((m) => m['error']),
      [
        '02-cascade is not the page shown',
        `line ${lineOf('02-cascade', 5)} of 02-cascade is not a check`,
        'line 99 of 02-cascade is not a check',
        'no page 09-none',
      ],
    );
    b.close();
  });
});

describe("the portal's /examiner socket", () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'examiner-socket-'));
    const tests = join(root, 'workshop', 'examiner', 'tests');
    mkdirSync(tests, { recursive: true });
    cpSync(join(ROOT, 'test/fixtures/examiner'), tests, { recursive: true });
    writeFileSync(
      join(root, 'workshop', '01-page.md'),
      '# Page\n\n```examiner:execute-test\nname: pass\nargs: [over, the, socket]\n```\n',
    );
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('runs a check the page names, reports it and marks the page done; refuses a malformed message', async () => {
    const examiner = createExaminer({ root, env: ENV, cwd: root, rewriteArg: (a) => a });
    const portal = await createPortal({
      root,
      guard: { allowedHosts: new Set(LOCAL_HOSTS) },
      grafanaUrl: 'http://localhost:3000',
      grafanaUpstream: 'http://127.0.0.1:9',
      rewriteCommand: (c) => c,
      terminals: createTerminals(await loadPty(), { cwd: root, shell: '/bin/sh', env: ENV }),
      examiner,
      where: 'here',
    });
    try {
      await portal.ready();
      // A WebSocket client of ws's, in this process (its types are not installed).
      // An in-process upgrade has no socket of its own: the guard reads the port it came to.
      const ws = (await portal.injectWS('/examiner', {
        headers: { host: 'localhost' },
        socket: {
          localPort: 8080,
          remoteAddress: '127.0.0.1',
          destroy: () => undefined,
        } as unknown as NetSocket,
      })) as unknown as {
        on(event: 'message', listener: (data: Buffer) => void): void;
        send(data: string): void;
        terminate(): void;
      };
      const seen: Array<Record<string, unknown>> = [];
      ws.on('message', (data: Buffer) =>
        seen.push(JSON.parse(data.toString()) as Record<string, unknown>),
      );
      ws.send('{"t":"run","page":"01-page","line":"3"}');
      ws.send(JSON.stringify({ t: 'page', page: '01-page' }));
      ws.send(JSON.stringify({ t: 'run', page: '01-page', line: 3 }));
      const passed = await until('the check passes', () =>
        seen.find((m) => m['t'] === 'check' && m['state'] === 'passed'),
      );
      assert.equal(passed['output'], 'all good: over the socket');
      await until('the page is done', () =>
        seen.find((m) => m['t'] === 'progress' && JSON.stringify(m['done']) === '["01-page"]'),
      );
      assert.deepEqual(seen[0], { t: 'error', error: 'run: /line must be integer' });
      ws.terminate();
    } finally {
      await portal.close();
    }
  });
});

describe('a page with checks, as the portal renders it', () => {
  const render = createRenderer({
    root: ROOT,
    grafanaUrl: 'http://localhost:3000',
    rewriteCommand: (c) => c,
  });

  it('marks every action of every page with the line the page model knows it by', () => {
    for (const file of listPages(join(ROOT, 'workshop'))) {
      const html = render(file).html;
      const rendered = [
        ...html.matchAll(
          /data-action="([^"]+)" data-line="(\d+)"|<details class="section" data-line="(\d+)"|class="section-end" data-line="(\d+)"/g,
        ),
      ].map((m) =>
        m[1] !== undefined
          ? `${m[2] ?? ''} ${m[1]}`
          : m[3] !== undefined
            ? `${m[3]} section:begin`
            : `${m[4] ?? ''} section:end`,
      );
      const model = parsePage(file).blocks.flatMap((b) =>
        b.type === 'action' ? [`${b.action.line} ${b.action.kind}`] : [],
      );
      assert.deepEqual(rendered, model, file);
    }
  });

  it("shows a check with Educates' title, its description and room for its result, and a section collapsed", () => {
    const dir = mkdtempSync(join(tmpdir(), 'examiner-render-'));
    try {
      mkdirSync(join(dir, 'workshop'));
      const file = join(dir, 'workshop', '01-page.md');
      writeFileSync(
        file,
        '# Page\n\n```section:begin\ntitle: If it fails\n```\n\nA hint.\n\n```section:end\n```\n\n' +
          '```examiner:execute-test\nname: pass\ndescription: What it checks.\n```\n\n' +
          '```examiner:execute-test\nname: pass\nprefix: Check\ntitle: It passes\n```\n',
      );
      const html = createRenderer({ root: dir, grafanaUrl: '', rewriteCommand: (c) => c })(
        file,
      ).html;
      assert.match(
        html,
        /<details class="section" data-line="3" data-name="\*"><summary class="section-title">Section: If it fails<\/summary>\n<p>A hint.<\/p>\n<span class="section-end" data-line="9" hidden><\/span><\/details>/,
      );
      assert.match(
        html,
        /<div class="action-title">Examiner: Execute test case &quot;pass&quot;<\/div><pre class="action-detail">What it checks.<\/pre><div class="check-result" hidden>/,
      );
      assert.match(
        html,
        /<div class="action-title">Check: It passes<\/div><div class="check-result" hidden>/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the workshop's checks, where nothing answers", () => {
  const tests = join(ROOT, 'workshop/examiner/tests');
  const run = async (name: string, args: string[]) =>
    runCheck({
      program: findCheck(tests, name),
      args,
      timeoutSeconds: 30,
      // A port nothing listens on: freed as soon as it was found.
      env: { ...ENV, PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}` },
      cwd: tmpdir(),
    });

  it('each says in one line, never a stack trace, that Prometheus cannot be reached', async () => {
    const calls: Array<[string, string[]]> = [
      ['prometheus-scrapes', ['hello-world-v1']],
      ['requests-arrived', ['hello-world-v3-1', '--rate', '250']],
      ['median-between', ['hello-world-v3-1', '--max', '0.001']],
      ['cpu-beside', ['hello-world-v1', '--beside', 'hello-world-v3-2']],
      ['requests-counted', ['hello-world-v3-1', '--at-least', '1']],
    ];
    const results = await Promise.all(calls.map(([name, args]) => run(name, args)));
    for (const r of results) {
      assert.equal(r.status, 'failed (exit 1)', r.output);
      assert.match(
        r.output,
        /^cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): is the environment up \(docker compose up -d, page 02\)\? Then check again\.$/,
      );
    }
    const client = await run('client-waits', [
      `http://127.0.0.1:${await freePort()}/`,
      '--at-least',
      '0.045',
    ]);
    assert.match(client.output, /^cannot reach http:\/\/127\.0\.0\.1:\d+\/ \(ECONNREFUSED\)/);
  });

  it('exits 2 with what is wrong when called wrongly', async () => {
    const results = await Promise.all([
      run('requests-arrived', ['hello-world-v3-1']),
      run('median-between', ['hello world', '--max', '1']),
      run('cpu-beside', ['hello-world-v1', '--besides', 'x']),
    ]);
    assert.deepEqual(
      results.map((r) => [r.status, r.output.split('\n').length]),
      [
        ['failed (exit 2)', 1],
        ['failed (exit 2)', 1],
        ['failed (exit 2)', 1],
      ],
    );
    assert.equal(
      results[0].output,
      'requests-arrived: give --rate or --at-least, in requests a second',
    );
    assert.equal(
      results[1].output,
      'median-between: a service name such as hello-world-v3-1, not "hello world"',
    );
  });
});
