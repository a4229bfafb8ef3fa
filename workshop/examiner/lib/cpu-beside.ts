// cpu-beside SERVICE --beside OTHER [--at-least 0.5] [--window 2m]
// SERVICE used at least that share of the CPU OTHER used over the last --window: both
// carried the same load at the same time, as Process Info's CPU by app service shows them.
import { parseArgs } from 'node:util';
import { scraped, seconds, service, value } from './prometheus.js';
import { CheckFailed, percent, window } from './verdict.js';

// Below this share of a core a service is idle: prom-client's own timers and the scrapes.
const IDLE = 0.02;

export async function cpuBeside(args: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      beside: { type: 'string' },
      'at-least': { type: 'string', default: '0.5' },
      window: { type: 'string', default: '2m' },
    },
  });
  const job = service(positionals[0]);
  const other = service(values.beside);
  const least = Number(values['at-least']);
  if (!(least > 0)) throw new TypeError('--at-least takes a ratio such as 0.5');
  const span = seconds(values.window);
  await scraped(job);
  await scraped(other);
  const cpu = async (j: string): Promise<number> =>
    (await value(`sum(rate(process_cpu_seconds_total{job="${j}"}[${span}s]))`)) ?? 0;
  const [mine, theirs] = [await cpu(job), await cpu(other)];
  if (theirs < IDLE)
    throw new CheckFailed(
      `${other} used ${percent(theirs)} of a core over ${window(span)}: no load reached it, ` +
        `to compare ${job} with. Run the bombardier steps above, both at once, then check again.`,
    );
  const ratio = mine / theirs;
  const said = `${job} used ${percent(mine)} of a core over ${window(span)}, ${ratio.toFixed(2)} × ${other}'s ${percent(theirs)}`;
  if (ratio < least)
    throw new CheckFailed(
      `${said} (at least ${least} expected): it did not get the same load. Run the ` +
        `bombardier step for ${job} above, at the same time as ${other}'s, then check again.`,
    );
  return `${said}: both carried the load.`;
}
