import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeSection } from './report.js';
import { ROOT, rssBytes, specs, start } from './servers.js';

// The recommended instrumentation under steady load, with a share of random URLs, for
// `minutes`: resident memory and the number of series sampled every 10 s.
export async function soak(minutes: number, out: string): Promise<void> {
  const spec = specs().find((s) => s.name === 'hello-world-v3/app-2');
  if (spec === undefined) throw new Error('no hello-world-v3/app-2');
  const server = await start(spec, 0);
  const seconds = Math.round(minutes * 60);
  const script = `import autocannon from 'autocannon';
await autocannon({ url: ${JSON.stringify(server.url)}, duration: ${seconds}, connections: 8, overallRate: 2000,
  requests: [{ setupRequest: (r) => ({ ...r, path: Math.random() < 0.1 ? '/' + Math.random().toString(36).slice(2) : '/' }) }] });`;
  const loader = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: 'ignore' });
  const samples: { t: number; rss: number; series: number }[] = [];
  try {
    for (let t = 0; t <= seconds; t += 10) {
      const text = await (await fetch(`${server.url}metrics`)).text();
      samples.push({ t, rss: rssBytes(server.pid), series: text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length });
      process.stderr.write(`soak ${t}s: RSS ${(samples.at(-1)?.rss ?? 0) / 2 ** 20} MiB\n`);
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
  const growth = ((warm.at(-1)?.rss ?? 0) - (warm[0]?.rss ?? 0)) / (warm[0]?.rss ?? 1);
  const flat = Math.max(...rss) / Math.min(...rss) - 1 <= 0.1;
  const body = [
    '## Soak',
    '',
    `hello-world-v3/app-2 at 2,000 requests/s (10 % to random URLs) for ${minutes} minutes, on Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
    `After warm-up: resident memory ${(Math.min(...rss) / 2 ** 20).toFixed(1)}–${(Math.max(...rss) / 2 ** 20).toFixed(1)} MiB (first to last ${(growth * 100).toFixed(1)} %): ${flat ? 'flat, within 10 %' : 'NOT flat: more than 10 % apart'}.`,
    `Series in /metrics: ${[...series].join(', ')}${series.size === 1 ? ' throughout' : ' (changed)'}.`,
    '',
    `Rerun: \`npm run bench -- --soak --minutes ${minutes}\``,
  ].join('\n');
  writeSection(out, 'soak', body);
  process.stdout.write(`${body}\n`);
  if (!flat || series.size !== 1) process.exitCode = 1;
}
