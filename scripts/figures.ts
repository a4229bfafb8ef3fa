// npm run figures: what the pages say the dashboards show, from a real run of this
// repository: the variants on this machine, the real process exporter, a real Prometheus
// configured from prometheus/prometheus.yml, and the dashboards' own queries. Writes
// workshop/figures/dashboards.md, whose rows the pages quote (and `check` compares).
// `npm run figures -- --rate 2000` sets the comparison load (default 5000 requests a second).
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { startPrometheus } from '../test/helpers/prometheus.js';
import { ROOT, build, launch } from '../harness/servers.js';
import { expand, panelQueries, startProcessExporter } from '../test/helpers/stack.js';

const SERVICES: Record<string, string> = {
  'hello-world-v1': 'hello-world-v1',
  'hello-world-v2-2': 'hello-world-v2/app-2',
  'hello-world-v3-1': 'hello-world-v3/app-1',
  'hello-world-v3-2': 'hello-world-v3/app-2',
  'hello-world-v7-2': 'hello-world-v7/app-2',
};
const SECONDS = 30;
const rateArg = process.argv.indexOf('--rate');
const RATE = rateArg > 0 ? Number(process.argv[rateArg + 1]) : 5000;
if (!Number.isInteger(RATE) || RATE <= 0) {
  process.stderr.write('--rate: a whole number of requests a second, e.g. --rate 2000\n');
  process.exit(2);
}
// Each comparison load runs this long; the panels are read every 5 s from 25 s in, once
// their 20 s window holds nothing but the load.
const LOAD = 60;
const IDLE = 40;
// Grafana's expansion in the compose environment: 5 s scrapes (the datasource's
// timeInterval) over the last 5 minutes, so $__rate_interval is 20 s.
const GRAFANA = { scrape: 5, interval: 5 };

const names = Object.keys(SERVICES);
// Compiled, as the image runs them: tsx's loader would add to every process's CPU.
build();
const servers = await Promise.all(
  names.map((n) => launch([SERVICES[n] ?? ''], { compiled: true })),
);
const url = (n: string): string => servers[names.indexOf(n)]?.url ?? '';
const exporter = await startProcessExporter();
const prometheus = await startPrometheus({
  ...Object.fromEntries(names.map((n) => [n, url(n)])),
  'process-exporter': exporter.hostPort,
});

const query = (title: string, uid = 'process-info'): string => {
  const expr = panelQueries(uid).find((q) => q.panel === title)?.expr;
  if (expr === undefined) throw new Error(`${uid} has no panel "${title}"`);
  return expr;
};
const CPU = 'CPU by app service';
const PER_REQUEST = 'CPU per request by app service';

// The panel's value for each service at each of the instants.
async function readings(title: string, at: number[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const t of at) {
    for (const row of await prometheus.query(expand(query(title), {}, GRAFANA), t)) {
      const job = row.metric['job'] ?? '';
      out.set(job, [...(out.get(job) ?? []), row.value]);
    }
  }
  return out;
}
const every5s = (from: number, to: number): number[] =>
  Array.from({ length: Math.floor((to - from) / 5) + 1 }, (_, i) => from + 5 * i);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};
const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)} %`;
const us = (s: number): string => `${(s * 1e6).toFixed(1)} µs`;
const ms = (s: number): string =>
  s < 0.001 ? `${(s * 1e6).toFixed(0)} µs` : `${(s * 1000).toFixed(1)} ms`;

// The comparisons whose difference did not stand 3 times above the idle spread.
const short: string[] = [];
try {
  // The pages' loads, shortened: one connection in turn for the streamed bodies (bombardier
  // -c 1), and 250 requests a second over 3 connections for the plain one, side by side.
  const sequential = async (n: string): Promise<void> => {
    for (const end = Date.now() + SECONDS * 1000; Date.now() < end;)
      await (await fetch(`${url(n)}/`)).text();
  };
  await Promise.all([
    sequential('hello-world-v2-2'),
    sequential('hello-world-v3-1'),
    autocannon({
      url: `${url('hello-world-v3-2')}/`,
      duration: SECONDS,
      connections: 3,
      overallRate: 250,
    }),
  ]);
  const at = await prometheus.scraped();
  const window = { scrape: 1, interval: SECONDS - 5 };
  const value = async (expr: string, vars: Record<string, string>): Promise<number> =>
    (await prometheus.query(expand(expr, vars, window), at))[0]?.value ?? NaN;

  const response = panelQueries('raw-requests').filter((q) => q.panel === 'Response time');
  const rows = ['| variant | mean | p50 | p95 | p99 |', '|---|---|---|---|---|'];
  for (const variant of ['hello-world-v2-2', 'hello-world-v3-1', 'hello-world-v3-2']) {
    const values = await Promise.all(response.map((q) => value(q.expr, { variant })));
    rows.push(`| ${variant} | ${values.map(ms).join(' | ')} |`);
  }

  // Idle: what CPU by app service shows with no load at all, the noise a difference must
  // stand out from. The 20 s window first empties of the load above.
  const compared = ['hello-world-v1', 'hello-world-v3-2', 'hello-world-v7-2'];
  await sleep(25_000);
  const idleFrom = Date.now() / 1000;
  await sleep(IDLE * 1000);
  await prometheus.scraped();
  const idle = await readings(CPU, every5s(idleFrom, idleFrom + IDLE));
  let spread = 0;
  const idleRows = [`| idle, ${IDLE} s | ${CPU}: lowest | highest | spread |`, '|---|---|---|---|'];
  for (const n of compared) {
    const xs = idle.get(n) ?? [];
    if (xs.length === 0) throw new Error(`no idle reading of ${CPU} for ${n}`);
    spread = Math.max(spread, Math.max(...xs) - Math.min(...xs));
    idleRows.push(
      `| ${n} | ${pct(Math.min(...xs), 2)} | ${pct(Math.max(...xs), 2)} | ${pct(Math.max(...xs) - Math.min(...xs), 2)} |`,
    );
  }

  // The pages' comparison: the same fixed rate on two services at once, read side by side
  // on CPU by app service; CPU per request where the service counts its requests, and for
  // v1 its CPU over the rate it was sent.
  const compare = async (base: string, other: string): Promise<string[]> => {
    const from = Date.now() / 1000;
    const results = await Promise.all(
      [base, other].map((n) =>
        autocannon({ url: `${url(n)}/`, duration: LOAD, connections: 3, overallRate: RATE }),
      ),
    );
    await prometheus.scraped();
    const instants = every5s(from + 25, from + LOAD - 1);
    const cpu = await readings(CPU, instants);
    const perRequest = await readings(PER_REQUEST, instants);
    const table = [
      `| \`-c 3 -r ${RATE}\` on both at once | req/s sent | ${CPU} | ${PER_REQUEST} |`,
      '|---|---|---|---|',
    ];
    const seen: { cpu: number; perRequest: number }[] = [];
    for (const [i, n] of [base, other].entries()) {
      const sent = (results[i]?.requests.total ?? NaN) / (results[i]?.duration ?? NaN);
      const xs = cpu.get(n) ?? [];
      const c = median(xs);
      const own = perRequest.get(n);
      const p = own === undefined ? c / sent : median(own);
      seen.push({ cpu: c, perRequest: p });
      table.push(
        `| ${n} | ${sent.toFixed(0)} | ${pct(c)} (${pct(Math.min(...xs))}–${pct(Math.max(...xs))}) | ${us(p)}${own === undefined ? ' (its CPU ÷ req/s sent)' : ''} |`,
      );
    }
    const [a, b] = seen;
    const diff = (b?.cpu ?? NaN) - (a?.cpu ?? NaN);
    const times = diff / spread;
    if (!(Math.abs(times) >= 3)) short.push(`${other} − ${base}`);
    table.push(
      `| ${other} − ${base} | | ${diff >= 0 ? '+' : ''}${pct(diff)}: ${Math.abs(times).toFixed(1)} × the idle spread | ${us((b?.perRequest ?? NaN) - (a?.perRequest ?? NaN))} |`,
    );
    return table;
  };
  const v1v3 = await compare('hello-world-v1', 'hello-world-v3-2');
  const v3v7 = await compare('hello-world-v3-2', 'hello-world-v7-2');

  const text = [
    '# What the dashboards showed',
    '',
    `Made by \`npm run figures\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} cores: the variants on this machine`,
    `under the pages' loads, read with the dashboards' own queries from a real Prometheus. Rerun it to see your machine's.`,
    '',
    '## Raw Requests: Response time',
    '',
    `${SECONDS} s of the loads of pages 05 and 06.`,
    '',
    ...rows,
    '',
    `## Process Info: ${CPU} and ${PER_REQUEST}`,
    '',
    `Read every 5 s with the 20 s window Grafana gives the panels. First every service idle; then`,
    `${LOAD} s of \`-c 3 -r ${RATE}\` on two services at once, the panels read from 25 s in: the median`,
    `(lowest–highest). The difference must be at least 3 times the largest idle spread.`,
    '',
    ...idleRows,
    '',
    ...v1v3,
    '',
    ...v3v7,
    '',
    short.length > 0
      ? `**Under 3 times the idle spread: ${short.join(', ')}. Rerun on a quieter machine.**\n`
      : '',
  ].join('\n');
  writeFileSync(join(ROOT, 'workshop/figures/dashboards.md'), text.trimEnd() + '\n');
  process.stdout.write(text);
} finally {
  await prometheus.stop();
  await exporter.stop();
  await Promise.all(servers.map((s) => s.stop()));
}
if (short.length > 0) process.exitCode = 1;
