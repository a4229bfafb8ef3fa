// node --import tsx test/educates/session-walk.ts [--cgroup DIR] [PAGE...]
// For npm run test:compose, with the session's compose services up (session-compose.ts):
// follows the Educates pages (workshop/content/) as a learner of a session would, in real
// terminals in the repository (a session's home): each terminal:execute typed into its
// terminal, each interrupt sent, each examiner:execute-test run as Educates' examiner runs
// it (its program in workshop/examiner/tests/, the args, the session's env, its timeout,
// retries and delay). A load runs LOAD_SECONDS before the page's interrupt stops it or a
// check looks at it, as a learner reads the dashboard meanwhile. Fails when a check does not
// pass, or when a load never reaches its service.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { track } from '../../harness/servers.js';
import { listPages, parsePage, str } from '../../portal/pages.js';
import { publishedPorts } from '../../portal/services.js';
import { type Client, type Session, createTerminals, loadPty } from '../../portal/terminals.js';
import { ROOT } from '../helpers/servers.js';
import { readResource } from './session-compose.js';

const LOAD_SECONDS = 45; // nine scrapes at 5 s
const TYPING_MS = 1500;
const CHECK_DEADLINE_S = 180; // for retries: .INF, "as long as the page is shown"
const STAND_INS = join(ROOT, 'test', 'workshop', 'stand-ins');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { cgroup: { type: 'string' } },
});

const say = (line: string): void => {
  process.stdout.write(`educates: ${line}\n`);
};

// The peak memory of the session's containers so far, from their parent cgroup.
function peakMiB(): string {
  const dir = values.cgroup;
  if (dir === undefined) return 'unknown';
  for (const file of ['memory.max_usage_in_bytes', 'memory.peak']) {
    const path = join(dir, file);
    if (existsSync(path)) return (Number(readFileSync(path, 'utf8')) / 2 ** 20).toFixed(0);
  }
  return 'unknown';
}

const resource = readResource();
const env: NodeJS.ProcessEnv = { ...process.env };
for (const { name, value } of resource.spec.session.env) env[name] = value;
// bombardier cannot be built here (no Go module proxy): its labelled stand-in, where the
// real one is missing. A session has the real one (Educates' base image).
const haveBombardier = (process.env['PATH'] ?? '')
  .split(':')
  .some((dir) => existsSync(join(dir, 'bombardier')));
if (!haveBombardier) {
  env['PATH'] = `${STAND_INS}:${env['PATH'] ?? ''}`;
  say('bombardier: the STAND-IN (test/workshop/stand-ins/bombardier); a session has the real one');
}

interface Outcome {
  passed: boolean;
  output: string;
}

// One run of a check, as Educates' examiner runs it: the home directory as working
// directory, killed (with its children) after `timeout` seconds.
function runCheck(name: string, args: string[], timeoutS: number): Promise<Outcome> {
  const program = join(ROOT, 'workshop', 'examiner', 'tests', name);
  return new Promise((resolve) => {
    const child = track(spawn(program, args, { cwd: ROOT, env, detached: true }));
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutS * 1000);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ passed: false, output: err.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ passed: code === 0, output: output.trim() });
    });
  });
}

async function examine(body: Record<string, unknown>): Promise<Outcome> {
  const name = String(body['name']);
  const args = Array.isArray(body['args']) ? body['args'].map(String) : [];
  const timeout = Number(body['timeout'] ?? 15) || 15;
  const retries = body['retries'] === undefined ? 0 : Number(body['retries']);
  const delay = Number(body['delay'] ?? 1);
  const deadline = Date.now() + CHECK_DEADLINE_S * 1000;
  let outcome = await runCheck(name, args, timeout);
  for (let n = 0; !outcome.passed && (retries < 0 || n < retries) && Date.now() < deadline; n++) {
    await sleep(delay * 1000);
    outcome = await runCheck(name, args, timeout);
  }
  return outcome;
}

// A home of its own, so that the shells start as a new learner's would, without this
// machine's ~/.bashrc (as test/workshop/browser/ does).
const home = mkdtempSync(join(tmpdir(), 'educates-walk-'));
writeFileSync(join(home, '.bashrc'), '');
const terminals = createTerminals(await loadPty(), {
  cwd: ROOT,
  shell: '/bin/bash',
  env: { ...env, HOME: home },
});
const failures: string[] = [];
const screens = new Map<string, string>();
const attached = new Map<string, Session>();
// A terminal as the portal's page holds it: it reads what the shell prints and acknowledges
// it at once (the portal pauses a shell whose readers fall behind).
const terminal = (id: string): Session => {
  let session = attached.get(id);
  if (session === undefined) {
    const client: Client = {
      bufferedAmount: 0,
      terminate() {
        failures.push(`the portal's terminals dropped the walk's terminal ${id}`);
      },
      send(message: string) {
        const m = JSON.parse(message) as { t: string; data?: string };
        if (m.t !== 'out' && m.t !== 'replay') return;
        const data = m.data ?? '';
        screens.set(id, ((screens.get(id) ?? '') + data).slice(-4000));
        const own = terminals.sessions.get(id);
        if (own !== undefined) terminals.ack(own, client, data.length);
      },
    };
    session = terminals.attach(id, client);
    if (session === undefined) throw new Error(`terminal ${id} has too many readers`);
    attached.set(id, session);
  }
  return session;
};
// When each terminal's bombardier started, to let it run before an interrupt stops it.
const loads = new Map<string, number>();
const settle = async (ids: string[]): Promise<void> => {
  for (const id of ids) {
    const started = loads.get(id);
    const left = started === undefined ? 0 : started + LOAD_SECONDS * 1000 - Date.now();
    if (left > 0) await sleep(left);
    loads.delete(id);
  }
};

// Which service a load's URL reaches, by the port the service publishes.
const servicesByPort = new Map(
  [...publishedPorts(ROOT, {})].map(([service, published]) => [
    published,
    service.split(':')[0] ?? '',
  ]),
);
// An uninstrumented variant (no metrics.ts in its folder, hello-world-v1) counts no requests.
const instrumented = new Set(
  Object.entries(resource.spec.session.applications.docker.compose.services)
    .filter(([, service]) => {
      const [variant = ''] = (service['command'] ?? []) as string[];
      return existsSync(join(ROOT, 'apps', variant.split('/')[0] ?? '', 'metrics.ts'));
    })
    .map(([name]) => name),
);
const prometheusUrl = env['PROMETHEUS_URL'] ?? '';
// The requests the service has counted, as Prometheus last scraped them; undefined for a
// service with no request metrics (hello-world-v1).
async function counted(service: string): Promise<number | undefined> {
  const query = `sum(http_requests_total{job="${service}"})`;
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
  const value = body.data.result[0]?.value[1];
  return value === undefined ? undefined : Number(value);
}
const SCRAPE_MS = 6000; // one scrape interval (5 s) and a little

let checks = 0;
try {
  // Each terminal answers before the walk types into it.
  for (const id of ['1', '2', '3']) {
    terminals.execute(terminal(id), `echo walk-ready-$((${id} * 11))`);
    const deadline = Date.now() + 30_000;
    while (!(screens.get(id) ?? '').includes(`walk-ready-${Number(id) * 11}`)) {
      if (Date.now() > deadline)
        throw new Error(`terminal ${id} never ran a command: ${screens.get(id) ?? ''}`);
      await sleep(200);
    }
  }
  const wanted = new Set(positionals);
  for (const file of listPages(join(ROOT, 'workshop', 'content'))) {
    const page = parsePage(file);
    if (wanted.size > 0 && !wanted.has(page.name.slice(0, 2))) continue;
    const targets = new Set<string>();
    for (const block of page.blocks)
      if (block.type === 'action' && block.action.kind === 'terminal:execute') {
        const command = str(block.action.body, 'command') ?? '';
        const url = /^bombardier .*http:\/\/([\d.]+:\d+)\//.exec(command)?.[1];
        const service = url === undefined ? undefined : servicesByPort.get(url);
        if (service !== undefined) targets.add(service);
      }
    const before = new Map<string, number | undefined>();
    for (const service of targets) before.set(service, await counted(service));
    for (const block of page.blocks) {
      if (block.type !== 'action') continue;
      const { kind, body } = block.action;
      const session = str(body, 'session') ?? '1';
      if (kind === 'terminal:execute') {
        const command = String(body['command']);
        terminals.execute(terminal(session), command);
        if (command.startsWith('bombardier ')) loads.set(session, Date.now());
        await sleep(TYPING_MS);
      } else if (kind === 'terminal:interrupt' || kind === 'terminal:interrupt-all') {
        const ids = kind === 'terminal:interrupt' ? [session] : ['1', '2', '3'];
        await settle(ids);
        for (const id of ids) if (attached.has(id)) terminals.interrupt(terminal(id));
        await sleep(TYPING_MS);
      } else if (kind.startsWith('editor:')) {
        const path = String(body['file']).replace(/^~\//, '');
        if (!existsSync(join(ROOT, path))) failures.push(`${page.name}: the editor has no ${path}`);
      } else if (kind === 'examiner:execute-test') {
        checks++;
        // A learner checks once the load has run a while, as before stopping it.
        await settle(['1', '2', '3']);
        const outcome = await examine(body);
        say(`${page.name}: check ${String(body['name'])} ${outcome.passed ? 'passed' : 'FAILED'}`);
        if (!outcome.passed)
          failures.push(
            `${page.name}: ${String(body['name'])}: ${outcome.output.split('\n').slice(-3).join(' / ')}`,
          );
      }
    }
    await settle(['1', '2', '3']);
    for (const id of attached.keys()) terminals.interrupt(terminal(id));
    if (targets.size > 0) await sleep(SCRAPE_MS);
    const arrived: string[] = [];
    for (const service of targets) {
      const was = before.get(service) ?? 0;
      const now = (await counted(service)) ?? 0;
      if (!instrumented.has(service)) arrived.push(`${service} (uninstrumented: counts none)`);
      else if (now > was) arrived.push(`${service} +${now - was}`);
      else
        failures.push(
          `${page.name}: the load sent to ${service} never arrived (${was} requests counted before, ${now} after)`,
        );
    }
    say(
      `${page.name}: walked${arrived.length > 0 ? `; requests counted: ${arrived.join(', ')}` : ''}; memory peak so far ${peakMiB()} MiB`,
    );
  }
} finally {
  terminals.close();
  // A shell that was just hung up on may still write its history there.
  rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}
if (checks === 0) say('no examiner:execute-test on these pages: their loads ran, no check did');
if (failures.length > 0) {
  for (const f of failures) say(`FAILED ${f}`);
  for (const [id, screen] of screens) say(`terminal ${id}, last output: ${screen.slice(-600)}`);
  process.exitCode = 1;
} else say(`${checks} checks passed`);
