// requests-arrived SERVICE (--rate R | --at-least R) [--for 30s] [--window 2m]
// Over some stretch of --for within the last --window, SERVICE counted at least 90 % of R
// requests a second on average (--rate: the page's rate), or at least R (--at-least: a floor,
// for a page that lets a slow machine send less): the page's load reached it, long enough
// for the panels to show it.
import { parseArgs } from 'node:util';
import { range, scraped, seconds, service } from './prometheus.js';
import { AGAIN, CheckFailed, perSecond, window } from './verdict.js';

export async function requestsArrived(args: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      rate: { type: 'string' },
      'at-least': { type: 'string' },
      for: { type: 'string', default: '30s' },
      window: { type: 'string', default: '2m' },
    },
  });
  const job = service(positionals[0]);
  const rate = Number(values.rate ?? values['at-least']);
  if (!(rate > 0) || (values.rate === undefined) === (values['at-least'] === undefined))
    throw new TypeError('give --rate or --at-least, in requests a second');
  const floor = values.rate === undefined ? rate : 0.9 * rate;
  const expected =
    values.rate === undefined
      ? perSecond(floor)
      : `${perSecond(floor)}, 90 % of ${perSecond(rate)}`;
  const needed = seconds(values.for);
  const span = seconds(values.window);
  const { scrapeSeconds: step } = await scraped(job);
  const end = Date.now() / 1000;
  // The rate over each stretch of --for within the window, a scrape apart: the best is what
  // the load held for that long. The rate over four scrapes (Grafana's $__rate_interval at
  // its smallest) tells a load too short from one too weak.
  const best = async (over: number): Promise<number> =>
    Math.max(
      0,
      ...(await range(
        `sum(rate(http_requests_total{job="${job}"}[${over}s]))`,
        end - span,
        end,
        step,
      )),
    );
  const held = await best(Math.max(needed, 4 * step));
  if (held >= floor)
    return `${job} counted ${perSecond(held)} requests a second (at least ${expected}) over ${needed} s of ${window(span)}.`;
  const peak = await best(4 * step);
  if (peak === 0) throw new CheckFailed(`no request reached ${job} in ${window(span)}: ${AGAIN}`);
  if (peak < floor)
    throw new CheckFailed(
      `${job} counted at most ${perSecond(peak)} requests a second in ${window(span)}, ` +
        `under ${expected}: ${AGAIN}`,
    );
  throw new CheckFailed(
    `${job} counted ${perSecond(peak)} requests a second, but not for ${needed} s in ` +
      `${window(span)}: let the load run at least ${needed} s, then check again.`,
  );
}
