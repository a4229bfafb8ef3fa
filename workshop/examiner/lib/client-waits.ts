// client-waits URL --at-least SECONDS [--requests 3]
// Each of a few requests to URL, sent one after the other from here, takes at least
// SECONDS from sending it to the end of the body: what a client of the service waits.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CheckFailed, duration, reason } from './verdict.js';

const REQUEST_MS = 5000;

async function timed(url: string): Promise<number> {
  const start = performance.now();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_MS) });
    await response.arrayBuffer();
    if (!response.ok) throw new CheckFailed(`${url} answered ${response.status}`);
  } catch (err) {
    if (err instanceof CheckFailed) throw err;
    const cause = reason(err);
    throw new CheckFailed(`cannot reach ${url} (${cause}): is the environment up (page 02)?`);
  }
  return (performance.now() - start) / 1000;
}

export async function clientWaits(args: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'at-least': { type: 'string' },
      requests: { type: 'string', default: '3' },
    },
  });
  const url = positionals[0] ?? '';
  if (!URL.canParse(url))
    throw new TypeError(`a URL such as http://hello-world-v2-2:8000/, not "${url}"`);
  const least = Number(values['at-least']);
  const n = Number(values.requests);
  if (!(least > 0)) throw new TypeError('--at-least takes seconds');
  if (!Number.isInteger(n) || n < 1 || n > 20) throw new TypeError('--requests takes 1 to 20');
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await timed(url));
  const fastest = Math.min(...times);
  if (fastest < least)
    throw new CheckFailed(
      `a request to ${url} took ${duration(fastest)} for this check, under ${duration(least)}: ` +
        'it is not the service the page uses, or its body is not streamed.',
    );
  return `each of ${n} requests to ${url} took at least ${duration(fastest)} for this check, the client (${duration(least)} expected).`;
}
