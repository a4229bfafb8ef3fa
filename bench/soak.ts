import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeSection } from './report.js';
import { ROOT, rssBytes, track } from '../harness/servers.js';
import { specs, start } from './servers.js';

const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
const range = (xs: number[]): string => `${mib(Math.min(...xs))}–${mib(Math.max(...xs))} MiB`;

// The recommended instrumentation under steady load, with a share of random URLs, for
// `minutes`: resident memory, the JavaScript heap and the number of series sampled every 10 s.
export async function soak(minutes: number, out: string): Promise<void> {
  const spec = specs().find((s) => s.recommended === true);
  if (spec === undefined) throw new Error('no recommended server in bench/servers.ts');
  const server = await start(spec, 0);
  const seconds = Math.round(minutes * 60);
  const script = `import autocannon from 'autocannon';
await autocannon({ url: ${JSON.stringify(server.url)}, duration: ${seconds}, connections: 8, overallRate: 2000,
  requests: [{ setupRequest: (r) => ({ ...r, path: Math.random() < 0.1 ? '/' + Math.random().toString(36).slice(2) : '/' }) }] });`;
  const loader = track(
    spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: 'ignore' }),
  );
  const samples: {
    t: number;
    rss: number;
    series: number;
    heapUsed: number;
    heapTotal: number;
    newSpace: number;
  }[] = [];
  // Node's own gauges of the server's JavaScript heap, from the same scrape.
  const gauge = (lines: string[], name: string): number =>
    Number(lines.find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? NaN);
  try {
    for (let t = 0; t <= seconds; t += 10) {
      const lines = (await (await fetch(`${server.url}metrics`)).text()).split('\n');
      const sample = {
        t,
        rss: rssBytes(server.pid),
        series: lines.filter((l) => l !== '' && !l.startsWith('#')).length,
        heapUsed: gauge(lines, 'nodejs_heap_size_used_bytes'),
        heapTotal: gauge(lines, 'nodejs_heap_size_total_bytes'),
        newSpace: gauge(lines, 'nodejs_heap_space_size_total_bytes{space="new"}'),
      };
      samples.push(sample);
      process.stderr.write(
        `soak ${t}s: RSS ${mib(sample.rss)} MiB, heap ${mib(sample.heapUsed)} used of ${mib(sample.heapTotal)} MiB, new space ${mib(sample.newSpace)} MiB\n`,
      );
      await sleep(10_000);
    }
  } finally {
    loader.kill('SIGTERM');
    await server.stop();
  }
  // The first fifth (at least a minute) is warm-up: the JIT, the heap growing to its size.
  const warm = samples.filter((s) => s.t >= Math.max(60, seconds / 5));
  const rss = warm.map((s) => s.rss);
  const series = new Set(warm.map((s) => s.series));
  // V8 grows and shrinks its new space (the young generation) between fixed bounds as it sees
  // fit, and resident memory follows it up and down by 10 MiB and more under the same load:
  // measured 4 to 16 MiB on Node 20 in one 10-minute run, at any time of it. Growth without a
  // bound is what a leak would show, so the verdict is on the rest of resident memory.
  const rest = warm.map((s) => s.rss - s.newSpace);
  const spread = Math.max(...rest) / Math.min(...rest) - 1;
  const flat = spread <= 0.1;
  const body = [
    '## Soak',
    '',
    `${spec.name} at 2,000 requests/s (10 % to random URLs) for ${minutes} minutes, on Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
    `After warm-up (the first ${Math.max(60, seconds / 5)} s): resident memory ${range(rss)}, moving with V8's new space (${range(warm.map((s) => s.newSpace))}).`,
    `Resident memory apart from the new space: ${range(rest)} (${(spread * 100).toFixed(1)} % apart): ${flat ? 'flat, within 10 %' : 'NOT flat: more than 10 % apart'}.`,
    `JavaScript heap in use: ${range(warm.map((s) => s.heapUsed))}.`,
    `Series in /metrics: ${[...series].join(', ')}${series.size === 1 ? ' throughout' : ' (changed)'}.`,
    '',
    `Rerun: \`npm run bench -- --soak --minutes ${minutes}\``,
  ].join('\n');
  writeSection(out, 'soak', body);
  process.stdout.write(`${body}\n`);
  if (!flat || series.size !== 1) process.exitCode = 1;
}
