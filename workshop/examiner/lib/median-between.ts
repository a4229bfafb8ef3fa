// median-between SERVICE [--min SECONDS] [--max SECONDS] [--window 2m]
// The median of the durations SERVICE recorded in the last --window, from its histogram as
// Raw Requests reads it, lies between --min and --max.
import { parseArgs } from 'node:util';
import { scraped, seconds, service, value } from './prometheus.js';
import { AGAIN, CheckFailed, duration, window } from './verdict.js';

function bound(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text === '' || !(n >= 0)) throw new TypeError(`--${name} takes seconds, not "${text}"`);
  return n;
}

export async function medianBetween(args: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      min: { type: 'string' },
      max: { type: 'string' },
      window: { type: 'string', default: '2m' },
    },
  });
  const job = service(positionals[0]);
  const min = bound('min', values.min, 0);
  const max = bound('max', values.max, Infinity);
  if (min === 0 && max === Infinity) throw new TypeError('give --min, --max or both');
  const span = seconds(values.window);
  await scraped(job);
  const w = `${span}s`;
  const count = await value(
    `sum(increase(http_request_duration_seconds_count{job="${job}"}[${w}]))`,
  );
  if (count === undefined || count < 0.5)
    throw new CheckFailed(`no request reached ${job} in ${window(span)}: ${AGAIN}`);
  const median = await value(
    `histogram_quantile(0.5, sum by (le) (increase(http_request_duration_seconds_bucket{job="${job}"}[${w}])))`,
  );
  const expected =
    max === Infinity
      ? `at least ${duration(min)}`
      : min === 0
        ? `under ${duration(max)}`
        : `between ${duration(min)} and ${duration(max)}`;
  if (median === undefined || median < min || median > max)
    throw new CheckFailed(
      `${job}'s median over ${window(span)} is ${median === undefined ? 'unknown' : duration(median)}, ` +
        `not ${expected}: is the load going to ${job}? ${AGAIN.replace(/^r/, 'R')}`,
    );
  return `${job} recorded ${Math.round(count)} requests in ${window(span)}; their median, ${duration(median)}, is ${expected}.`;
}
