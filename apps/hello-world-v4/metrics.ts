// Step 4: v3's wrapper, plus one event per request written to a log, as a system that keeps
// every request would. Written at once, each event costs a write(2); buffered, a dozen or more
// share one. Either way each request pays to build an event that v3's counters never needed.
import { openSync } from 'node:fs';
import type { RequestListener, ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';
import { createHttpMetrics, histogram, outcome } from '../../lib/http-metrics.js';
import { logger } from '../../lib/logger.js';
import { registry } from '../../lib/registry.js';
import { type Handler, runHandler } from '../../lib/respond.js';
import { routeOf } from '../../lib/routes.js';
import { SettingError } from '../../lib/setting-error.js';

export const metrics = createHttpMetrics({ registry, durations: histogram });
const { record, requestsInFlight } = metrics;

// /dev/null by default, so that what the events cost is the writing, not a terminal or a disk.
const EVENTS_FILE = process.env['REQUEST_EVENTS_FILE'] ?? '/dev/null';
// 4 KiB is room for about 30 events; measured, one write(2) per 12 to 25 events under load.
const BUFFER_BYTES = 4096;

function openEvents(): number {
  try {
    return openSync(EVENTS_FILE, 'a');
  } catch (err) {
    throw new SettingError(
      `REQUEST_EVENTS_FILE=${EVENTS_FILE} cannot be opened for writing: ${(err as Error).message}`,
    );
  }
}

// sync: one write(2) per event. Buffered: pino writes on a full buffer and flushes the rest
// when the process exits.
export function eventLog({ sync }: { sync: boolean }): Logger {
  const destination = pino.destination({
    dest: openEvents(),
    sync,
    minLength: sync ? 0 : BUFFER_BYTES,
  });
  // A full disk costs the events, never a request.
  destination.on('error', (err: Error) => {
    logger.error({ err }, 'request events cannot be written');
  });
  return pino({ base: { pid: process.pid } }, destination);
}

function reportEvent(events: Logger, req: Timed['req'], status: number, start: bigint): void {
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  events.info({ method: req.method, route: routeOf(req.url), status, seconds }, 'request');
}

const START = Symbol('start');
const EVENTS = Symbol('events');
type Timed = ServerResponse & { [START]: bigint; [EVENTS]: Logger };

// One listener function for every response ('this' is the response): no closure to allocate
// per request. 'close' is emitted exactly once, whether the response finished, failed or was
// cut off by the client.
function recordOnClose(this: Timed): void {
  requestsInFlight.dec();
  const status = outcome(this);
  record(this.req, status, this[START]);
  reportEvent(this[EVENTS], this.req, status, this[START]);
}

export function application(app: Handler, events: Logger): RequestListener {
  return function timedApplication(req, res) {
    (res as Timed)[START] = process.hrtime.bigint();
    (res as Timed)[EVENTS] = events;
    requestsInFlight.inc();
    res.on('close', recordOnClose);
    runHandler(app, req, res);
  };
}
