// A histogram that counts in plain numbers and is read by prom-client's registry only when
// scraped. prom-client's Histogram validates and hashes the label set on every observe(), even
// through a child bound to its labels: about 0.3 µs a call on its own, close to 1 µs per
// request in a loaded server, most of what the v3 wrapper costs over no instrumentation.
// Here a child is bound once per label set and an observation is a bucket search and three
// additions. A scrape writes the text's bytes once, from label text escaped once per label set:
// prom-client formats every line's labels anew, 20 times the instructions at 1,000 label sets.
import type { Metric, Registry } from 'prom-client';
import { BUCKETS, DURATION } from './http-metrics.js';

// Prometheus's label names; `le` is the histogram's own.
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

// A label value as the text format quotes it: backslash, double quote and line feed escaped.
export function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

// A label set as the text format writes it within braces, each value escaped: `a="x",b="y"`.
export function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([label, value]) => `${label}="${escapeLabelValue(value)}"`)
    .join(',');
}

// A label set's key in a map of series: the same whatever order its labels come in.
export function labelKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

// A sample value as prom-client writes one (its util.getValueAsString).
function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

// A count, a whole number below 2^53 (16 digits at most), in decimal as String() writes it.
const COUNT_DIGITS = 16;
export function writeCount(out: Buffer, at: number, n: number): number {
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  let rest = n;
  for (let i = at + digits - 1; i >= at; i--) {
    const tens = Math.floor(rest / 10);
    out[i] = 48 + rest - tens * 10;
    rest = tens;
  }
  return at + digits;
}

// One label set's buckets, sum and count.
export class CountedSeries {
  // counts[i]: observations above bounds[i-1] and up to bounds[i]; the last, above them all.
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  // Its lines' heads as UTF-8 bytes, its label text escaped once: each bucket line up to its
  // count (`name_bucket{le="0.005",method="GET",...} `), and its sum and count lines'. A
  // bucket line's head is one copy, not two (the bound's part and the labels'): at 100 label
  // sets the copies (TypedArray.prototype.set) went from 0.73 M to 0.38 M instructions a
  // scrape, for 22 small buffers a label set: 6.0 KiB a label set against 1.3 KiB, measured.
  readonly bucketHeads: Buffer[];
  readonly sumHead: Buffer;
  readonly countHead: Buffer;
  // The most bytes its lines can take: its bucket lines less their heads, and the rest.
  readonly maxBytes: number;
  // Whether its text is ASCII, one byte a character.
  readonly ascii: boolean;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
    name: string,
    // `${name}_bucket{le="<bound>"`, for each bound and +Inf.
    bucketHeads: readonly string[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    const text = labelText(labels);
    this.ascii = Buffer.byteLength(name + text) === name.length + text.length;
    const braced = text === '' ? '' : `{${text}}`;
    const close = text === '' ? '} ' : `,${text}} `;
    this.bucketHeads = bucketHeads.map((head) => Buffer.from(`${head}${close}`));
    this.sumHead = Buffer.from(`${name}_sum${braced} `);
    this.countHead = Buffer.from(`${name}_count${braced} `);
    // A sum is at most 24 characters ("-1.7976931348623157e+308").
    this.maxBytes =
      this.bucketHeads.reduce((n, head) => n + head.length + COUNT_DIGITS + 1, 0) +
      (this.sumHead.length + 25) +
      (this.countHead.length + COUNT_DIGITS + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    (this.counts[i] as number)++;
    this.sum += value;
    this.count++;
  }
}

// What a metric's get() resolves to at run time. (prom-client's declared type for it names the
// metric type as a numeric enum and asks for a collect function; its registry uses neither.)
export interface Sample {
  metricName: string;
  labels: Record<string, string>;
  value: number;
}
export interface Reading<V = Sample> {
  name: string;
  help: string;
  type: 'histogram' | 'counter';
  aggregator: 'sum';
  values: V[];
}

// A value the registry writes as `${metricName}${labels} ${value}`: with no labels, metricName
// is written as it is, so one value can carry lines ready made. One object for its labels and
// shared labels, so that the registry's cache of formatted shared labels (a WeakMap keyed by
// the object) is hit, not grown by an entry a scrape.
export interface Lines {
  metricName: string;
  labels: Readonly<Record<string, never>>;
  sharedLabels: Readonly<Record<string, never>>;
  value: number;
}
const NO_LABELS: Readonly<Record<string, never>> = Object.freeze({});

export class CountedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, CountedSeries>();
  private readonly le: string[];
  // `${name}_bucket{le="<bound>"`, for each bound and +Inf: every label set's lines start so.
  private readonly bucketHeads: string[];
  private maxBytes = 0;
  // Whether every label set's text is ASCII: then the bytes are read as Latin-1, a plain copy.
  private ascii = true;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    if (bounds.some((b, i) => i > 0 && b <= (bounds[i - 1] as number)))
      throw new Error(`${name}: buckets must increase`);
    this.le = bounds.map(String);
    this.bucketHeads = [...this.le, '+Inf'].map((le) => `${name}_bucket{le="${le}"`);
  }

  // One series per label set: a second call with the same labels returns the first's. Bound
  // once by the caller, so the key and the label text are built once per label set, not per
  // request or per scrape.
  labels(labels: Readonly<Record<string, string>>): CountedSeries {
    const key = labelKey(labels);
    let series = this.series.get(key);
    if (series === undefined) {
      for (const label of Object.keys(labels))
        if (label === 'le' || !LABEL_NAME.test(label))
          throw new Error(`${this.name}: "${label}" cannot be a label name`);
      series = new CountedSeries(this.bounds, labels, this.name, this.bucketHeads);
      this.series.set(key, series);
      this.maxBytes += series.maxBytes;
      this.ascii &&= series.ascii;
    }
    return series;
  }

  // Every sample as its own value, as prom-client's Histogram.get() has them: what
  // getMetricsAsJSON() returns and what AggregatorRegistry sums across workers. Computed before
  // it returns, so a reading holds exactly the observations made before the call.
  get(): Promise<Reading> {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.series.values()) {
      let cumulative = 0;
      for (const [i, le] of this.le.entries()) {
        cumulative += series.counts[i] as number;
        values.push({ metricName: bucket, labels: { le, ...series.labels }, value: cumulative });
      }
      values.push({
        metricName: bucket,
        labels: { le: '+Inf', ...series.labels },
        value: series.count,
      });
      values.push({
        metricName: `${this.name}_sum`,
        labels: { ...series.labels },
        value: series.sum,
      });
      values.push({
        metricName: `${this.name}_count`,
        labels: { ...series.labels },
        value: series.count,
      });
    }
    return Promise.resolve(this.reading(values));
  }

  // What the registry asks for when it writes the text (Registry.getMetricsAsString prefers it
  // to get()): the same lines, their bytes written once, each label set's cumulative counts in
  // one pass, as one value whose last count the registry writes. A registry's default labels
  // (setDefaultLabels, which lib/registry.ts does not use) would land on the last line only:
  // not supported.
  getForPromString(): Promise<Reading<Lines>> {
    if (this.series.size === 0) return Promise.resolve(this.reading([]));
    const out = Buffer.allocUnsafe(this.maxBytes);
    let at = 0;
    let lastCount = 0;
    let beforeLastCount = 0;
    for (const {
      counts,
      bucketHeads: heads,
      sum,
      count,
      sumHead,
      countHead,
    } of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < heads.length; i++) {
        cumulative += counts[i] as number;
        const head = heads[i] as Buffer;
        out.set(head, at);
        at = writeCount(out, at + head.length, cumulative);
        out[at++] = 0x0a;
      }
      out.set(sumHead, at);
      at += sumHead.length;
      at += out.write(valueText(sum), at, 'latin1');
      out[at++] = 0x0a;
      out.set(countHead, at);
      at += countHead.length;
      beforeLastCount = at - 1;
      lastCount = count;
      at = writeCount(out, at, count);
      out[at++] = 0x0a;
    }
    const text = out.toString(this.ascii ? 'latin1' : 'utf8', 0, beforeLastCount);
    return Promise.resolve(
      this.reading([
        { metricName: text, labels: NO_LABELS, sharedLabels: NO_LABELS, value: lastCount },
      ]),
    );
  }

  private reading<V>(values: V[]): Reading<V> {
    const { name, help, type, aggregator } = this;
    return { name, help, type, aggregator, values };
  }

  // What Registry.resetMetrics() calls.
  reset(): void {
    for (const series of this.series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }

  // The registry takes any object with a name and get(), as prom-client's own cluster
  // aggregation does with the metrics it registers; its declared type names only its classes.
  registerIn(registry: Registry): void {
    registry.registerMetric(this as unknown as Metric);
  }
}

// The request durations of lib/http-metrics.ts counted in plain numbers, registered in
// `registry`: what `createHttpMetrics({ registry, durations })` takes for `durations`.
export function countedHistogram(registry: Registry): CountedHistogram {
  const counted = new CountedHistogram(DURATION.name, DURATION.help, BUCKETS);
  counted.registerIn(registry);
  return counted;
}
