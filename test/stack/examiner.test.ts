// Every check of pages 03–11 on real data: the page's services launched as docker-compose.yml
// runs them, a real Prometheus scraping them each second, and the page's own examiner blocks
// run through the portal's runner: before the page's load each fails and says what to do;
// after it (sent with autocannon as the page's bombardier commands say, for 10 s instead of
// 120, the checks' --for and --window shortened to match) each passes. What this shared
// machine can serve is not what is tested: a load is capped at 1000 requests a second, the
// rate its check asks for scaled with it, and a page's loads are sent one after another
// unless its checks compare services under load at the same time (cpu-beside).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import autocannon from 'autocannon';
import { parse } from 'yaml';
import { ROOT, launch, type Running } from '../../harness/servers.js';
import { words } from '../../portal/check.js';
import { findCheck, runCheck, type CheckResult } from '../../portal/examiner.js';
import { CHECK, checkFields } from '../../portal/examiner-fields.js';
import { type Action, type Page, listPages, parsePage, str } from '../../portal/pages.js';
import { rewriteServiceUrls } from '../../portal/services.js';
import { stackSkip, startPrometheus, type Prometheus } from '../helpers/prometheus.js';
import { freePort } from '../helpers/stack.js';

const skip = stackSkip();
const LOAD_SECONDS = 10;
// The checks' windows, shortened with the load: Prometheus here scrapes every second.
const SHORT: Record<string, string[]> = {
  'requests-arrived': ['--for', '6s', '--window', '40s'],
  'median-between': ['--window', '40s'],
  'cpu-beside': ['--window', '20s'],
  'requests-counted': ['--window', '1m'],
};
const SERVICE = /^hello-world-[a-z0-9-]+$/;
// Checks of what a service is, not of a load: they fail when the service is down.
const NO_LOAD = new Set(['prometheus-scrapes', 'client-waits']);
const CAP = 1000;
// Connections enough to hold a rate on a shared machine, where a response can wait 10 ms
// for a core: 3 connections would then cap the load at 300 a second, whatever the page asks.
const connectionsFor = (l: Load): number =>
  l.rate === undefined ? l.connections : Math.max(l.connections, Math.ceil(l.rate / 50));

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { command?: string[] }>;
};

// The launcher's arguments for a service, from its compose command, less host and port.
function launcherArgs(service: string): string[] {
  const command = compose.services[service]?.command ?? [];
  return command.filter(
    (arg, i) =>
      !['--host', '--port'].includes(command[i - 1] ?? '') && !['--host', '--port'].includes(arg),
  );
}

interface Load {
  session: string;
  url: string;
  connections: number;
  rate: number | undefined;
  amount: number | undefined;
}

// A page's loads and the checks that follow them, in order.
interface Stage {
  loads: Load[];
  checks: Action[];
}

function bombardier(command: string, session: string): Load {
  const argv = words(command).slice(1);
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv[i + 1];
  };
  const url = argv.find((a) => /^https?:/.test(a)) ?? '';
  const rate = flag('-r');
  const amount = flag('-n');
  return {
    session,
    url,
    connections: Number(flag('-c') ?? 125),
    rate: rate === undefined ? undefined : Number(rate),
    amount: amount === undefined ? undefined : Number(amount),
  };
}

// The rate requests-arrived asks for (--rate or --at-least), scaled as its service's load
// was capped.
function scaled(name: string, args: string[], stage: Stage | undefined): string[] {
  if (name !== 'requests-arrived') return [];
  const load = stage?.loads.find((l) => hostOf(l.url) === args[0]);
  if (load?.rate === undefined || load.rate <= CAP) return [];
  const option = args.find((a) => a === '--rate' || a === '--at-least');
  const value = Number(args[args.indexOf(option ?? '') + 1]);
  return option === undefined ? [] : [option, String(Math.round((value * CAP) / load.rate))];
}

function stagesOf(actions: Action[]): Stage[] {
  const stages: Stage[] = [];
  let stage: Stage = { loads: [], checks: [] };
  for (const action of actions) {
    const command = str(action.body, 'command') ?? '';
    if (action.kind === 'terminal:execute' && command.startsWith('bombardier ')) {
      if (stage.checks.length > 0) stages.push((stage = { loads: [], checks: [] }));
      stage.loads.push(bombardier(command, str(action.body, 'session') ?? '1'));
    } else if (action.kind === CHECK) stage.checks.push(action);
  }
  if (!stages.includes(stage)) stages.push(stage);
  return stages;
}

const hostOf = (url: string): string => (URL.canParse(url) ? new URL(url).hostname : '');

function servicesOf(stages: Stage[]): string[] {
  const names = new Set<string>();
  for (const { loads, checks } of stages) {
    for (const l of loads) names.add(hostOf(l.url));
    for (const c of checks)
      for (const arg of checkFields(c.body)?.args ?? [])
        if (SERVICE.test(arg) || SERVICE.test(hostOf(arg)))
          names.add(SERVICE.test(arg) ? arg : hostOf(arg));
  }
  return [...names].sort();
}

const actionsOf = (page: Page): Action[] =>
  page.blocks.flatMap((b) => (b.type === 'action' ? [b.action] : []));

const pages = listPages(join(ROOT, 'workshop'))
  .map((file) => parsePage(file))
  .filter((page) => page.blocks.some((b) => b.type === 'action' && b.action.kind === CHECK));

describe('the checks of every exercise, on a real Prometheus', { skip }, () => {
  // Every service the pages use, launched once; each page gets a Prometheus of its own,
  // started after the pages before it sent their loads, so that it sees only its own.
  const services = [...new Set(pages.flatMap((p) => servicesOf(stagesOf(actionsOf(p)))))];
  let servers: Record<string, Running>;
  before(async () => {
    // Four at a time: thirteen tsx start-ups at once on two busy cores outlast a launch's
    // 30 s to listen.
    const launched: Running[] = [];
    for (let i = 0; i < services.length; i += 4)
      launched.push(
        ...(await Promise.all(services.slice(i, i + 4).map((s) => launch(launcherArgs(s))))),
      );
    servers = Object.fromEntries(services.map((s, i) => [s, launched[i] as Running]));
  });
  after(async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  });

  it('pages 03 to 11 each have checks to run here', () => {
    assert.deepEqual(
      pages.map((p) => p.name.slice(0, 2)),
      ['03', '04', '05', '06', '07', '08', '09', '10', '11'],
    );
  });

  for (const page of pages) {
    const stages = stagesOf(actionsOf(page));
    const used = servicesOf(stages);

    describe(page.name, () => {
      let prometheus: Prometheus;
      let rewrite: (arg: string) => string;
      // Where the page's services are: running, or (to see a check fail) a port no one serves.
      const watch = async (where: (service: string) => string): Promise<void> => {
        prometheus = await startPrometheus(Object.fromEntries(used.map((s) => [s, where(s)])));
        rewrite = rewriteServiceUrls(new Map(used.map((s) => [`${s}:8000`, where(s)])));
      };

      before(async () => {
        await watch((s) => new URL(servers[s]?.url ?? '').host);
        await prometheus.scraped();
      });
      after(async () => {
        await prometheus.stop();
      });

      const check = async (
        action: Action,
        stage?: Stage,
      ): Promise<CheckResult & { args: string[] }> => {
        const fields = checkFields(action.body);
        assert.ok(fields, `${page.name}:${action.line}: Educates' fields`);
        const args = [
          ...fields.args.map(rewrite),
          ...(SHORT[fields.name] ?? []),
          ...scaled(fields.name, fields.args, stage),
        ];
        const result = await runCheck({
          program: findCheck(join(ROOT, 'workshop/examiner/tests'), fields.name),
          args,
          timeoutSeconds: fields.timeout,
          env: {
            PATH: process.env['PATH'] ?? '',
            HOME: homedir(),
            LANG: 'C.UTF-8',
            PROMETHEUS_URL: prometheus.url,
          },
          cwd: homedir(),
        });
        process.stdout.write(
          `# ${page.name} ${fields.name} ${args.join(' ')}: ${result.status}\n#   ${result.output}\n`,
        );
        return { ...result, args };
      };

      const load = async ({ loads, checks }: Stage): Promise<void> => {
        // Loads in different terminals run at once where the checks compare them; else, and
        // in the same terminal, one after the other.
        const together = checks.some((c) => str(c.body, 'name') === 'cpu-beside');
        const sessions = together ? [...new Set(loads.map((l) => l.session))] : [''];
        await Promise.all(
          sessions.map(async (session) => {
            for (const l of loads.filter((x) => !together || x.session === session)) {
              const url = rewrite(l.url);
              const result = await autocannon({
                url,
                connections: connectionsFor(l),
                ...(l.rate === undefined ? {} : { overallRate: Math.min(l.rate, CAP) }),
                ...(l.amount === undefined ? { duration: LOAD_SECONDS } : { amount: l.amount }),
              });
              assert.ok(
                result.non2xx === 0 && result.errors === 0,
                `${url}: every request answered`,
              );
            }
          }),
        );
        await prometheus.scraped();
      };

      // A failing check says, in one or two lines of its own, what is missing and what to do.
      const saysWhy = (r: CheckResult & { args: string[] }): void => {
        assert.equal(r.status, 'failed (exit 1)', r.output);
        assert.doesNotMatch(r.output, /^\s+at /m, 'no stack trace');
        assert.ok(r.output.split('\n').length <= 2, r.output);
        const subject = r.args[0] ?? '';
        assert.ok(
          r.output.includes(SERVICE.test(subject) ? subject : hostOf(subject)) ||
            r.output.includes(subject),
          r.output,
        );
      };

      const ofLoad = (c: Action): boolean => !NO_LOAD.has(str(c.body, 'name') ?? '');
      const passes = (r: CheckResult): void => {
        assert.ok(r.passed, `${r.status}: ${r.output}`);
        assert.equal(r.output.split('\n').length, 1, r.output);
      };

      it('each check of a load fails with its hint before the page sends it, and passes after', async () => {
        for (const stage of stages) {
          if (stage.loads.length === 0) continue;
          for (const r of await Promise.all(stage.checks.filter(ofLoad).map((c) => check(c))))
            saysWhy(r);
          await load(stage);
          for (const r of await Promise.all(stage.checks.map((c) => check(c, stage)))) passes(r);
        }
      });

      const others = stages.flatMap((s) => s.checks).filter((c) => !ofLoad(c));
      if (others.length > 0)
        it('a check of what a service is passes while it runs and fails with its hint when it is down', async () => {
          for (const r of await Promise.all(others.map((c) => check(c)))) passes(r);
          const nowhere = `127.0.0.1:${await freePort()}`;
          await prometheus.stop();
          await watch(() => nowhere);
          // Until Prometheus has tried the address and found no one.
          for (let i = 0; i < 100; i++) {
            if ((await prometheus.query('max(up)'))[0]?.value === 0) break;
            await sleep(200);
          }
          for (const r of await Promise.all(others.map((c) => check(c)))) saysWhy(r);
        });
    });
  }
});
