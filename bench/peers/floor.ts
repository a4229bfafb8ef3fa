// The floor of a scrape: what it takes to write the request metrics' text. node:http and
// nothing else; each (method, status) of GET, POST, ... /status/NNN counted in plain numbers
// as v7 counts it, and /metrics writing the lines v7 writes for them (the duration histogram,
// the request counter and the in-flight gauge; no process metrics) into one buffer, each byte
// once: every piece ready-made as bytes and copied in whole, every count written digit by digit,
// and sending that buffer: no registry, no string, no framework.
import { createServer } from 'node:http';
import { writeCount } from '../../lib/counted-histogram.js';
import { BUCKETS, DURATION } from '../../lib/http-metrics.js';
import { listenPlain } from './listen.js';

interface Counted {
  labels: Buffer;
  buckets: Float64Array;
  sum: number;
  count: number;
}
const counted = new Map<string, Counted>();
const bytes = (text: string) => Buffer.from(text);
const NAME = DURATION.name;
const HEADS = [...BUCKETS.map(String), '+Inf'].map((le) => bytes(`${NAME}_bucket{le="${le}",`));
const HISTOGRAM = bytes(`# HELP ${NAME} ${DURATION.help}\n# TYPE ${NAME} histogram\n`);
const COUNTER = bytes(
  '\n# HELP http_requests_total Requests recorded, by outcome.\n# TYPE http_requests_total counter\n',
);
// No request is in flight when /metrics is answered: the floor's requests end as they start.
const IN_FLIGHT = bytes(
  '\n# HELP http_requests_in_flight Requests the app has started and not yet recorded.\n# TYPE http_requests_in_flight gauge\nhttp_requests_in_flight 0\n',
);
const [SUM, COUNT, TOTAL] = [`${NAME}_sum{`, `${NAME}_count{`, 'http_requests_total{'].map(bytes);

// Each helper takes the buffer and the position and returns the next position: locals, not
// module variables, so that the loops compile to plain loads and stores.
// (A byte-by-byte copy in JavaScript measured 42 instructions a byte at 100 label sets, more
// than v7's whole scrape: one copy a piece is the floor.)
function put(out: Buffer, at: number, b: Buffer): number {
  out.set(b, at);
  return at + b.length;
}
// A whole number's digits, as v7 writes them; any other number (a sum) as String() writes it.
function number(out: Buffer, at: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return at + out.write(String(n), at, 'latin1');
  return writeCount(out, at, n);
}
function line(out: Buffer, at: number, head: Buffer, c: Counted, value: number): number {
  at = put(out, put(out, at, head), c.labels);
  out[at++] = 0x7d; // }
  out[at++] = 0x20;
  at = number(out, at, value);
  out[at++] = 0x0a;
  return at;
}

let buffer = Buffer.alloc(1 << 16);
function text(): Buffer {
  // Each label set's lines take under 3 KiB (25 lines of at most 120 bytes).
  const need = 4096 + counted.size * 3072;
  if (buffer.length < need) buffer = Buffer.alloc(need);
  const out = buffer;
  let at = put(out, 0, HISTOGRAM);
  for (const c of counted.values()) {
    let cumulative = 0;
    for (let i = 0; i < HEADS.length; i++) {
      cumulative += c.buckets[i] ?? 0;
      at = line(out, at, HEADS[i] as Buffer, c, cumulative);
    }
    at = line(out, at, SUM as Buffer, c, c.sum);
    at = line(out, at, COUNT as Buffer, c, c.count);
  }
  at = put(out, at, COUNTER);
  for (const c of counted.values()) at = line(out, at, TOTAL as Buffer, c, c.count);
  at = put(out, at, IN_FLIGHT);
  return out.subarray(0, at);
}

const server = createServer((req, res) => {
  if (req.url === '/metrics') {
    res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    res.end(text());
    return;
  }
  const start = process.hrtime.bigint();
  const code = Number(req.url?.slice('/status/'.length));
  res.statusCode = code >= 200 && code <= 999 ? code : 404;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end('Hello World!');
  const key = `${req.method} ${res.statusCode}`;
  let c = counted.get(key);
  if (c === undefined) {
    const labels = bytes(
      `method="${req.method}",route="unmatched",status_code="${res.statusCode}"`,
    );
    c = { labels, buckets: new Float64Array(HEADS.length), sum: 0, count: 0 };
    counted.set(key, c);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  let i = 0;
  while (i < BUCKETS.length && seconds > (BUCKETS[i] ?? 0)) i++;
  (c.buckets[i] as number)++;
  c.sum += seconds;
  c.count++;
});
listenPlain(server);
