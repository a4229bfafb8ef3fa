// prometheus-scrapes SERVICE [--no-request-metrics]
// Prometheus scrapes SERVICE, which serves Node's process metrics; with --no-request-metrics,
// and no request metrics (the uninstrumented hello world).
import { parseArgs } from 'node:util';
import { scraped, service, value } from './prometheus.js';
import { CheckFailed } from './verdict.js';

export async function prometheusScrapes(args: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'no-request-metrics': { type: 'boolean', default: false } },
  });
  const job = service(positionals[0]);
  const target = await scraped(job);
  if (target.health !== 'up')
    throw new CheckFailed(
      target.health === 'unknown'
        ? `Prometheus has not scraped ${job} yet: wait ${target.scrapeSeconds} s, then check again.`
        : `Prometheus cannot scrape ${job} (${target.lastError}): is it running? ` +
            '`docker compose ps` on your machine lists the services.',
    );
  if ((await value(`count(process_cpu_seconds_total{job="${job}"})`)) === undefined)
    throw new CheckFailed(`${job} serves no process_cpu_seconds_total: it is not one of our apps.`);
  const counted = await value(`count(http_requests_total{job="${job}"})`);
  if (values['no-request-metrics'] && counted !== undefined)
    throw new CheckFailed(`${job} counts requests: it is not the uninstrumented hello world.`);
  return (
    `Prometheus scrapes ${job} every ${target.scrapeSeconds} s: up, with Node's process metrics` +
    (values['no-request-metrics'] ? ' and no request metrics.' : '.')
  );
}
