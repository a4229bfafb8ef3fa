// Reading Prometheus text the way a test needs it: one sample by its exact label set.
export async function scrape(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  return res.text();
}

function labelText(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

// prom-client writes labels in the order they were declared, so an exact line is a fair match.
// A series that is not there throws, naming it: read as 0, a renamed metric would pass every
// check that it is 0.
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const head = `${name}${labelText(labels)} `;
  const line = text.split('\n').find((l) => l.startsWith(head));
  if (line === undefined) throw new Error(`no series ${head.trim()} in /metrics`);
  return Number(line.slice(head.length));
}

// The same, for a series that a request may not have made yet: absent is 0.
export function sampleOrZero(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  const head = `${name}${labelText(labels)} `;
  return text.split('\n').some((l) => l.startsWith(head)) ? sample(text, name, labels) : 0;
}

export function seriesLines(text: string, prefix: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(prefix) && !l.startsWith('#'));
}

export const ok = (route = '/'): Record<string, string> => ({
  method: 'GET',
  route,
  status_code: '200',
});
