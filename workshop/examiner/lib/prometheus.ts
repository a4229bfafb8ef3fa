// What the checks ask Prometheus, through its HTTP API, at PROMETHEUS_URL: the workstation's
// default is the compose service; the portal from a checkout passes the published port.
import { CheckFailed, reason } from './verdict.js';

export const PROMETHEUS_URL = process.env['PROMETHEUS_URL'] ?? 'http://prometheus:9090';

// An answer a check waits for longer than this is no answer: the check's own limit is 15 s.
const REQUEST_MS = 5000;

export interface Target {
  health: string;
  lastError: string;
  scrapeSeconds: number;
}

interface Answer<T> {
  status?: string;
  data?: T;
  error?: string;
}

async function get<T>(path: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${PROMETHEUS_URL}${path}`, {
      signal: AbortSignal.timeout(REQUEST_MS),
    });
  } catch (err) {
    const cause = reason(err);
    throw new CheckFailed(
      `cannot reach Prometheus at ${PROMETHEUS_URL} (${cause}): is the environment up ` +
        '(docker compose up -d, page 02)? Then check again.',
    );
  }
  let answer: Answer<T>;
  try {
    answer = (await response.json()) as Answer<T>;
  } catch {
    throw new CheckFailed(`${PROMETHEUS_URL} answered ${response.status}, not Prometheus's API`);
  }
  if (answer.status !== 'success' || answer.data === undefined)
    throw new CheckFailed(`Prometheus refused ${path}: ${answer.error ?? response.status}`);
  return answer.data;
}

const SERVICE = /^[a-z0-9][a-z0-9-]*$/;

// A compose service name, which is also its job's name; refused otherwise, as it goes into
// PromQL.
export function service(name: string | undefined): string {
  if (name === undefined || !SERVICE.test(name))
    throw new TypeError(`a service name such as hello-world-v3-1, not "${name ?? ''}"`);
  return name;
}

// "5s", "1m", "1m30s", "250ms" (Prometheus's and the pages' durations) in seconds.
export function seconds(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new TypeError(`a duration such as 30s or 2m, not "${text}"`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 } as const;
  return parts.reduce((sum, [, n = '0', u = 's']) => sum + Number(n) * unit[u as 's'], 0);
}

export async function target(job: string): Promise<Target | undefined> {
  const { activeTargets } = await get<{
    activeTargets: Array<{
      labels: Record<string, string>;
      health: string;
      lastError: string;
      scrapeInterval?: string;
    }>;
  }>('/api/v1/targets?state=active');
  const found = activeTargets.find((t) => t.labels['job'] === job);
  if (found === undefined) return undefined;
  return {
    health: found.health,
    lastError: found.lastError,
    scrapeSeconds: seconds(found.scrapeInterval ?? '5s'),
  };
}

// The job's target, or the check fails saying what to do.
export async function scraped(job: string): Promise<Target> {
  const found = await target(job);
  if (found === undefined)
    throw new CheckFailed(
      `Prometheus at ${PROMETHEUS_URL} has no target ${job}: is the environment up ` +
        '(docker compose up -d, page 02)?',
    );
  return found;
}

// One value of an instant query whose result is a single series (a sum), or undefined when
// there is none: no such series, or no sample in the window.
export async function value(promql: string, at?: number): Promise<number | undefined> {
  const time = at === undefined ? '' : `&time=${at}`;
  const { result } = await get<{ result: Array<{ value: [number, string] }> }>(
    `/api/v1/query?query=${encodeURIComponent(promql)}${time}`,
  );
  const v = result[0]?.value[1];
  return v === undefined || Number.isNaN(Number(v)) ? undefined : Number(v);
}

// The values of a single-series range query, one each step from start to end.
export async function range(
  promql: string,
  start: number,
  end: number,
  step: number,
): Promise<number[]> {
  const { result } = await get<{ result: Array<{ values: Array<[number, string]> }> }>(
    `/api/v1/query_range?query=${encodeURIComponent(promql)}&start=${start}&end=${end}&step=${step}`,
  );
  return (result[0]?.values ?? []).map(([, v]) => Number(v)).filter((v) => !Number.isNaN(v));
}
