// requests-counted SERVICE --at-least N [--window 5m]
// SERVICE counted at least N requests in the last --window, in the one series Prometheus
// scrapes (for a service with workers, their sum).
import { parseArgs } from 'node:util';
import { scraped, seconds, service, value } from './prometheus.js';
import { AGAIN, CheckFailed, window } from './verdict.js';

export async function requestsCounted(args: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'at-least': { type: 'string' },
      window: { type: 'string', default: '5m' },
    },
  });
  const job = service(positionals[0]);
  const least = Number(values['at-least']);
  if (!Number.isInteger(least) || least < 1) throw new TypeError('--at-least takes a count');
  const span = seconds(values.window);
  await scraped(job);
  const total = `sum(http_requests_total{job="${job}"})`;
  const now = Date.now() / 1000;
  const last = (await value(total, now)) ?? 0;
  // A series born in the window (a fresh service) has nothing before it: it counts from 0.
  const first = (await value(total, now - span)) ?? 0;
  // A restart resets the counter: then all it has counted is in the window.
  const counted = last >= first ? last - first : last;
  if (counted === 0)
    throw new CheckFailed(`no request reached ${job} in ${window(span)}: ${AGAIN}`);
  if (counted < least)
    throw new CheckFailed(
      `${job} counted ${counted} requests in ${window(span)}, not ${least}: ` +
        'run the bombardier step above and let it finish, then check again.',
    );
  return `${job} counted ${counted} requests in ${window(span)} (at least ${least}).`;
}
