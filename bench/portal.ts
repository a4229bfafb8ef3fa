import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { pollHealthz } from '../harness/healthz.js';
import { startPortal } from '../harness/portal.js';
import { rssBytes } from '../harness/servers.js';
import { attachTerminal, type TerminalClient } from '../harness/terminal-client.js';
import { writeSection } from './report.js';

// The portal's soak: `yes` in a terminal for `seconds`, read by a client that keeps up, by
// one that stopped reading, and by none; each in a portal of its own. The aims (issue 18):
// peak resident memory at most 200 MiB, /healthz's p99 at most 100 ms, and with the
// stalled client no growth past its first seconds: at most 10 MiB over what it had at
// 30 s. The stalled client is let go at the first heartbeat (15 s) and the case becomes
// the no-client one, whose memory V8's heap takes some seconds more to settle at.
export const PORTAL_AIMS = { rssMiB: 200, p99Ms: 100, growthMiB: 10 };
const SETTLE_S = 30;

interface Row {
  name: string;
  peakMiB: number;
  atSettleMiB: number;
  // The most it had after SETTLE_S, over what it had then.
  growthMiB: number;
  p50: number;
  p99: number;
  asked: number;
  failed: number;
  received: number;
}

const MiB = 2 ** 20;

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

async function soakCase(name: string, seconds: number): Promise<Row> {
  const portal = await startPortal();
  let client: TerminalClient | undefined;
  try {
    client = await attachTerminal(portal.url, '1');
    if (name === 'stalled client') client.stall();
    client.execute('yes');
    if (name === 'no client') {
      await sleep(500);
      await client.close();
    }
    const poller = pollHealthz(portal.url, 100);
    const rss: number[] = [];
    for (let t = 0; t < seconds; t++) {
      rss.push(rssBytes(portal.child.pid ?? 0));
      await sleep(1000);
    }
    const { ms, failures } = await poller.stop();
    const row: Row = {
      name,
      peakMiB: Math.max(...rss) / MiB,
      atSettleMiB: (rss[SETTLE_S] ?? NaN) / MiB,
      growthMiB: (Math.max(...rss.slice(SETTLE_S)) - (rss[SETTLE_S] ?? NaN)) / MiB,
      p50: quantile(ms, 0.5),
      p99: quantile(ms, 0.99),
      asked: ms.length,
      failed: failures.length,
      received: client.received(),
    };
    process.stdout.write(
      `portal: ${name}: peak RSS ${row.peakMiB.toFixed(1)} MiB (${row.atSettleMiB.toFixed(1)} at ${SETTLE_S} s), /healthz p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms (${row.asked} asked, ${row.failed} not answered in 1 s); the client got ${(row.received / 1e6).toFixed(1)} M characters\n`,
    );
    return row;
  } finally {
    await client?.close();
    await portal.close();
  }
}

export async function portalSoak(seconds: number, out: string): Promise<boolean> {
  const rows: Row[] = [];
  for (const name of ['reading client', 'stalled client', 'no client'])
    rows.push(await soakCase(name, seconds));
  const met = (r: Row): boolean =>
    r.peakMiB <= PORTAL_AIMS.rssMiB &&
    r.p99 <= PORTAL_AIMS.p99Ms &&
    (r.name !== 'stalled client' || r.growthMiB <= PORTAL_AIMS.growthMiB);
  const table = [
    `| case | peak RSS | RSS at ${SETTLE_S} s | /healthz p50 | p99 | asked (not answered in 1 s) | characters the client got | aims |`,
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| yes, ${r.name} | ${r.peakMiB.toFixed(1)} MiB | ${r.atSettleMiB.toFixed(1)} MiB | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.asked} (${r.failed}) | ${(r.received / 1e6).toFixed(1)} M | ${met(r) ? 'met' : 'NOT met'} |`,
    ),
  ].join('\n');
  const ok = rows.every(met);
  const body = [
    '## The portal under `yes`',
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; load average ${loadavg()[1]?.toFixed(1)} at the end (over 5 minutes).`,
    `\`npm run workshop -- serve\` (node under tsx, as from a checkout), a fresh portal per case; \`yes\` in terminal 1 for ${seconds} s, with a client that reads and acknowledges as the page does, with one that stopped reading its socket (a stuck tab, a laptop closed on Wi-Fi), and with none.`,
    'Resident memory from /proc every second; /healthz asked every 100 ms from a thread of its own, each with a 1 s limit (a late answer counts as 1 s and more).',
    'The stalled client is let go at the first heartbeat (15 s: it acknowledged nothing while at the high-water mark); from then on yes runs as with no client.',
    `Aims: peak RSS at most ${PORTAL_AIMS.rssMiB} MiB, /healthz p99 at most ${PORTAL_AIMS.p99Ms} ms, and with the stalled client at most ${PORTAL_AIMS.growthMiB} MiB more at any time after ${SETTLE_S} s than at ${SETTLE_S} s. Before flow control the stalled case grew 10–13 MB/s without end (98 → 712 MB in 60 s).`,
    '',
    `Rerun: \`npm run bench -- --portal --seconds ${seconds}\``,
    '',
    table,
    '',
    ok ? 'Every aim met.' : 'NOT every aim met: see the rows.',
  ].join('\n');
  writeSection(out, 'portal', body);
  process.stdout.write(`${table}\nwritten to ${out}\n`);
  return ok;
}
