// npm run figures: what the pages say the dashboards show, from a real run of this
// repository: the variants on this machine, the real process exporter, a real Prometheus
// configured from prometheus/prometheus.yml, and the dashboards' own queries. Writes
// workshop/figures/dashboards.md, whose rows the pages quote (and `check` compares).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startPrometheus } from '../test/helpers/prometheus.js';
import { ROOT, launch } from '../harness/servers.js';
import { expand, panelQueries, startProcessExporter } from '../test/helpers/stack.js';

const SERVICES: Record<string, string> = {
  'hello-world-v2-2': 'hello-world-v2/app-2',
  'hello-world-v3-1': 'hello-world-v3/app-1',
  'hello-world-v3-2': 'hello-world-v3/app-2',
};
const SECONDS = 30;

const names = Object.keys(SERVICES);
const servers = await Promise.all(names.map((n) => launch([SERVICES[n] ?? ''])));
const url = (n: string): string => servers[names.indexOf(n)]?.url ?? '';
const exporter = await startProcessExporter();
const prometheus = await startPrometheus({
  ...Object.fromEntries(names.map((n) => [n, url(n)])),
  'process-exporter': exporter.hostPort,
});

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
  const ms = (s: number): string =>
    s < 0.001 ? `${(s * 1e6).toFixed(0)} µs` : `${(s * 1000).toFixed(1)} ms`;
  const rows = ['| variant | mean | p50 | p95 | p99 |', '|---|---|---|---|---|'];
  for (const variant of ['hello-world-v2-2', 'hello-world-v3-1', 'hello-world-v3-2']) {
    const values = await Promise.all(response.map((q) => value(q.expr, { variant })));
    rows.push(`| ${variant} | ${values.map(ms).join(' | ')} |`);
  }
  const text = [
    '# What the dashboards showed',
    '',
    `Made by \`npm run figures\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}: the variants on this machine under`,
    `${SECONDS} s of the pages' loads, read with the dashboards' own queries from a real Prometheus. Rerun it to see your machine's.`,
    '',
    '## Raw Requests: Response time',
    '',
    ...rows,
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'workshop/figures/dashboards.md'), text);
  process.stdout.write(text);
} finally {
  await prometheus.stop();
  await exporter.stop();
  await Promise.all(servers.map((s) => s.stop()));
}
