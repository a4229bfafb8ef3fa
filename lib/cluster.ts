// --workers N: a primary process forks N workers that share one listening socket (node:cluster
// hands each new connection to the next worker). Each worker counts only its own requests, so a
// scrape answered from its registry alone would tell one worker's story: a worker answers
// /metrics with the primary's aggregate of every worker's registry (prom-client's
// AggregatorRegistry asks each worker over the cluster's IPC channel and sums).
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { logger } from './logger.js';
import { WORKER_ENV, registry } from './registry.js';

const ASK = 'lab:cluster-metrics';
// prom-client gives up on a worker that has not answered in 5 s; a second more for the reply.
const ASK_TIMEOUT_MS = 6000;

interface Reply {
  type: typeof ASK;
  id: number;
  text?: string;
  error?: string;
}

// In the primary: answer each worker's request for the aggregate.
export function serveAggregate(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: Partial<Reply>) => {
    if (message.type !== ASK || message.id === undefined) return;
    const { id } = message;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ASK, id, text } satisfies Reply),
      (err: unknown) => worker.send({ type: ASK, id, error: String(err) } satisfies Reply),
    );
  });
}

// In a worker: let the primary collect this worker's registry, and ask it for the aggregate.
export function aggregateFromPrimary(): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs the worker's side of prom-client's messaging
  const pending = new Map<number, (reply: Reply) => void>();
  let next = 0;
  process.on('message', (message: Partial<Reply>) => {
    if (message.type === ASK && message.id !== undefined)
      pending.get(message.id)?.(message as Reply);
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(
          new Error(
            `the primary did not answer for the workers' metrics in ${ASK_TIMEOUT_MS / 1000} s`,
          ),
        );
      }, ASK_TIMEOUT_MS);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        pending.delete(id);
        if (reply.text === undefined)
          reject(new Error(reply.error ?? 'no metrics from the primary'));
        else resolve(reply.text);
      });
      process.send?.({ type: ASK, id });
    });
}

export interface PrimaryOptions {
  variant: string;
  workers: number;
  host: string;
  drainMs: number;
}

// The primary serves no requests: it forks the workers, keeps N of them running, announces the
// address once all N listen, and on SIGTERM or SIGINT passes the signal on and waits for them.
export function runPrimary({ variant, workers, host, drainMs }: PrimaryOptions): void {
  serveAggregate();
  const numbers = new Map<Worker, number>();
  const listening = new Set<number>();
  let stopping = false;
  let failed = false;
  const fork = (n: number) => numbers.set(cluster.fork({ [WORKER_ENV]: String(n) }), n);
  for (let n = 1; n <= workers; n++) fork(n);

  cluster.on('listening', (worker, address) => {
    listening.add(numbers.get(worker) ?? 0);
    if (listening.size !== workers) return;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    const url = `http://${shownHost}:${address.port}/`;
    logger.info(
      {
        variant,
        host,
        port: address.port,
        url,
        metrics: `${url}metrics`,
        workers,
        node: process.version,
      },
      `serving ${variant} with ${workers} workers at ${url}`,
    );
  });

  cluster.on('exit', (worker, code, signal) => {
    const n = numbers.get(worker) ?? 0;
    numbers.delete(worker);
    if (stopping) {
      failed ||= code !== 0;
      if (numbers.size === 0) process.exit(failed ? 1 : 0);
      return;
    }
    if (!listening.has(n)) {
      // A worker that cannot start (a bad setting, a port in use) would fail the same way again.
      logger.fatal({ worker: n, code, signal }, `worker ${n} failed before it listened`);
      for (const other of numbers.keys()) other.process.kill('SIGTERM');
      // (A worker killed by a signal has no exit code: null at run time, whatever the types say.)
      process.exit(code > 0 ? code : 1);
    }
    logger.error({ worker: n, code, signal }, `worker ${n} exited unexpectedly; starting another`);
    fork(n);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: numbers.size }, 'stopping: passing the signal to the workers');
    for (const worker of numbers.keys()) worker.process.kill('SIGTERM');
    // Each worker cuts its own stragglers off at drainMs; this only catches a worker that hangs.
    setTimeout(() => {
      logger.error('workers still running after the drain time; killing them');
      for (const worker of numbers.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, drainMs + 1000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
