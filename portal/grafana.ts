// Whether Grafana answers, asked by the portal itself at the address it reaches Grafana
// on (in the workshop service http://grafana:3000, not the browser's localhost:3000).
// One probe at a time, with a 2 s limit, and its answer kept a while, so that no number
// of pages asking costs more than one request to Grafana every few seconds.
export interface GrafanaStatus {
  up: boolean;
  // Why not, in words, when it is not up.
  message?: string;
}

const TIMEOUT_MS = 2000;
// Up is kept longer than down: a tab waiting for Grafana to start sees it within 3 s.
const KEEP_UP_MS = 30_000;
const KEEP_DOWN_MS = 3000;
// Grafana's health answer is under 200 bytes; more than this is something else.
const MAX_BODY = 16 * 1024;

async function readBounded(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY) {
      await reader.cancel();
      throw new Error(`its answer is over ${MAX_BODY} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function probe(upstream: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${upstream}/api/health`, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'manual',
    });
    const body = await readBounded(response);
    if (!response.ok) return `/api/health answered ${response.status}`;
    const health = JSON.parse(body) as { database?: unknown } | null;
    return health?.database === 'ok' ? undefined : '/api/health does not say its database is ok';
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return e.name === 'TimeoutError'
      ? `no answer in ${TIMEOUT_MS / 1000} s`
      : (e.cause?.code ?? e.message);
  }
}

export function createGrafanaProbe(upstream: string): () => Promise<GrafanaStatus> {
  let last: { status: GrafanaStatus; at: number } | undefined;
  let pending: Promise<GrafanaStatus> | undefined;
  return () => {
    const age = last === undefined ? Infinity : performance.now() - last.at;
    if (last !== undefined && age < (last.status.up ? KEEP_UP_MS : KEEP_DOWN_MS))
      return Promise.resolve(last.status);
    pending ??= probe(upstream)
      .then((why) => {
        const status: GrafanaStatus =
          why === undefined
            ? { up: true }
            : {
                up: false,
                message: `Grafana does not answer at ${upstream} (${why}): is the grafana service up? \`docker compose ps grafana\``,
              };
        last = { status, at: performance.now() };
        return status;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
