// A counter kept as plain numbers, one per label set, and written straight into the text when
// scraped: the request counter of the counted step (hello-world-v7), beside its histogram
// (lib/counted-histogram.ts). prom-client's Counter formats and escapes every line's labels at
// every scrape: 1.3 M instructions a scrape at 100 label sets, 0.7 of the counted histogram's.
// Here each label set's line head is escaped once, when the label set is first seen.
import type { Metric, Registry } from 'prom-client';
import { LABEL_NAME, type Reading, type Sample, labelKey, labelText } from './counted-histogram.js';
import { TOTALS } from './http-metrics.js';

// One label set's count and the head of its line: `name{labels} `, escaped once.
export class CountedCount {
  count = 0;
  readonly head: string;
  constructor(
    readonly labels: Readonly<Record<string, string>>,
    name: string,
  ) {
    const text = labelText(labels);
    this.head = text === '' ? `${name} ` : `${name}{${text}} `;
  }
}

export class CountedCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, CountedCount>();

  // The name every line is written with. `name` is not readonly: a registry set to
  // OpenMetrics renames a counter (without `_total`), and a label set first seen after that
  // still gets the full name.
  private readonly fullName: string;
  constructor(
    public name: string,
    readonly help: string,
  ) {
    this.fullName = name;
  }

  // One count per label set: a second call with the same labels returns the first's. Bound
  // once by the caller, as CountedHistogram's labels() is.
  labels(labels: Readonly<Record<string, string>>): CountedCount {
    const key = labelKey(labels);
    let series = this.series.get(key);
    if (series === undefined) {
      for (const label of Object.keys(labels))
        if (!LABEL_NAME.test(label))
          throw new Error(`${this.name}: "${label}" cannot be a label name`);
      series = new CountedCount(labels, this.fullName);
      this.series.set(key, series);
    }
    return series;
  }

  // Each label set's count as its own value, as prom-client's Counter.get() has them.
  get(): Promise<Reading> {
    const values: Sample[] = [];
    for (const { labels, count } of this.series.values())
      values.push({ metricName: this.name, labels: { ...labels }, value: count });
    return Promise.resolve(this.reading(values));
  }

  // The lines, their labels escaped once, as one value. The registry writes a value as
  // `${metricName}${labels} ${value}`: the value carries every line but the last, then the last
  // line's name as the registry has it, its labels and its count. Under OpenMetrics the registry
  // takes `_total` off a counter's name and writes it after each value's name; this way it lands
  // where it belongs, and the lines before, written with the full name, read the same.
  getForPromString(): Promise<Reading> {
    let text = '';
    let last: CountedCount | undefined;
    for (const series of this.series.values()) {
      if (last !== undefined) text += `${last.head}${last.count}\n`;
      last = series;
    }
    if (last === undefined) return Promise.resolve(this.reading([]));
    const { labels, count } = last;
    return Promise.resolve(
      this.reading([{ metricName: `${text}${this.name}`, labels: { ...labels }, value: count }]),
    );
  }

  private reading<V>(values: V[]): Reading<V> {
    const { name, help, type, aggregator } = this;
    return { name, help, type, aggregator, values };
  }

  // What Registry.resetMetrics() calls. prom-client's Counter drops its label sets; these
  // stay, at zero: bound once by the caller, a dropped one would never count again.
  reset(): void {
    for (const series of this.series.values()) series.count = 0;
  }

  registerIn(registry: Registry): void {
    registry.registerMetric(this as unknown as Metric);
  }
}

// The request counter of lib/http-metrics.ts counted in plain numbers, registered in
// `registry`: what `createHttpMetrics({ registry, durations, totals })` takes for `totals`.
export function countedCounter(registry: Registry): CountedCounter {
  const counted = new CountedCounter(TOTALS.name, TOTALS.help);
  counted.registerIn(registry);
  return counted;
}
