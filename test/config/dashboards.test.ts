import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from '../../harness/servers.js';

const DIR = join(ROOT, 'grafana/dashboards');
const datasources = parse(
  readFileSync(join(ROOT, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
) as { datasources: { uid: string; type: string }[] };
const provisionedUid = datasources.datasources[0]?.uid;

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  targets?: { datasource?: { uid: string }; expr: string; refId: string; legendFormat?: string }[];
  fieldConfig?: { defaults: { unit?: string } };
  options?: { cellValues?: { unit?: string }; yAxis?: { unit?: string } };
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  refresh: string;
  panels: Panel[];
  templating: { list: { name: string; datasource?: { uid: string } }[] };
}

// The panel types Grafana 11 and later draw without the Angular plugin system, which
// Grafana 12 has removed.
const MODERN = new Set([
  'timeseries',
  'heatmap',
  'stat',
  'gauge',
  'bargauge',
  'table',
  'text',
  'row',
  'barchart',
  'histogram',
  'state-timeline',
  'status-history',
  'piechart',
  'logs',
]);
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
const dashboards = files.map((f) => ({
  file: f,
  json: JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Dashboard,
}));

describe('grafana dashboards', () => {
  it('are Raw Requests and Process Info, each in a file named after its uid', () => {
    assert.deepEqual(dashboards.map((d) => [d.file, d.json.uid, d.json.title]).sort(), [
      ['process-info.json', 'process-info', 'Process Info'],
      ['raw-requests.json', 'raw-requests', 'Raw Requests'],
    ]);
  });

  it('use only the provisioned Prometheus datasource, in every panel and query', () => {
    assert.equal(provisionedUid, 'prometheus');
    for (const { json } of dashboards) {
      for (const panel of json.panels) {
        assert.equal(panel.datasource?.uid, provisionedUid, `${json.uid}: ${panel.title}`);
        for (const t of panel.targets ?? [])
          assert.equal(t.datasource?.uid, provisionedUid, `${json.uid}: ${panel.title} ${t.refId}`);
      }
      for (const v of json.templating.list)
        assert.equal(v.datasource?.uid, provisionedUid, `${json.uid}: $${v.name}`);
    }
  });

  it('have unique panel ids and refIds, modern panel types only, a 5 s refresh and a variant selector', () => {
    for (const { json } of dashboards) {
      const ids = json.panels.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${json.uid}: panel ids`);
      for (const panel of json.panels) {
        assert.ok(MODERN.has(panel.type), `${json.uid}: ${panel.title} is ${panel.type}`);
        const refs = (panel.targets ?? []).map((t) => t.refId);
        assert.equal(new Set(refs).size, refs.length, `${json.uid}: ${panel.title} refIds`);
        assert.ok(refs.length > 0, `${json.uid}: ${panel.title} has a query`);
      }
      assert.equal(json.refresh, '5s');
      assert.deepEqual(
        json.templating.list.map((v) => v.name),
        ['variant'],
      );
    }
  });

  it('Raw Requests has throughput, response times, a heatmap, status codes and in-flight panels', () => {
    const raw = dashboards.find((d) => d.json.uid === 'raw-requests')?.json;
    const exprs = (raw?.panels ?? [])
      .flatMap((p) => (p.targets ?? []).map((t) => `${p.type} ${t.expr}`))
      .join('\n');
    for (const needed of [
      /timeseries sum\(rate\(http_requests_total/,
      /histogram_quantile\(0\.5,/,
      /histogram_quantile\(0\.95,/,
      /histogram_quantile\(0\.99,/,
      /heatmap .*http_request_duration_seconds_bucket/,
      /by \(status_code\)/,
      /http_requests_in_flight/,
    ]) {
      assert.match(exprs, needed);
    }
  });

  it("Process Info's CPU per request is the CPU panel's query over the request rate, in seconds", () => {
    const panels = dashboards.find((d) => d.json.uid === 'process-info')?.json.panels ?? [];
    const expr = (title: string): string =>
      panels.find((p) => p.title === title)?.targets?.[0]?.expr ?? '';
    const perRequest = panels.find((p) => p.title === 'CPU per request by app service');
    assert.equal(perRequest?.fieldConfig?.defaults.unit, 's');
    assert.equal(
      expr('CPU per request by app service'),
      `${expr('CPU by app service')} / ` +
        '(sum by (job) (rate(http_requests_total{job=~"hello-world.*"}[$__rate_interval])) > 10)',
    );
  });
});

// What each panel shows the learner: its unit, a phrase its description must hold, and its
// legends. A change to any of them is a change to what the workshop pages describe.
const PANELS: Record<
  string,
  [title: string, unit: string, description: RegExp, legends: string[]][]
> = {
  'raw-requests': [
    ['Throughput', 'reqps', /per second/, ['requests/s']],
    ['Response time', 's', /quantiles/, ['mean', 'p50', 'p95', 'p99']],
    [
      'Response time distribution',
      'short',
      /each request is counted in one column only.*count of requests/s,
      ['{{le}}'],
    ],
    ['Responses by status code', 'reqps', /499.*500/, ['{{status_code}}']],
    ['Requests in flight', 'short', /started and not yet recorded/, ['in flight']],
  ],
  'process-info': [
    ['CPU by app service', 'percentunit', /share of one core/, ['{{job}}']],
    ["CPU of the environment's processes", 'percentunit', /process exporter/, ['{{groupname}}']],
    ['Resident memory by app service', 'bytes', /workers added up/, ['{{job}}']],
    [
      "Resident memory of the environment's processes",
      'bytes',
      /process exporter/,
      ['{{groupname}}'],
    ],
    ['CPU of $variant by process', 'percentunit', /the only process.*worker 1/, ['{{process}}']],
    ['Event-loop delay of $variant', 's', /event loop/, ['p50', 'p99']],
    ['Garbage collection of $variant', 'percentunit', /GC pauses/, ['{{kind}}']],
    ['CPU per request by app service', 's', /divide its CPU by the rate/, ['{{job}}']],
  ],
};

// Labels every series of its query carries: Prometheus's job; the exporter's groupname;
// status_code and le on every http_request_* series; kind on every GC series.
const ALWAYS = new Set(['job', 'groupname', 'status_code', 'le', 'kind']);

describe('grafana panels', () => {
  it('each show the unit, description and legends the workshop describes', () => {
    for (const { json } of dashboards) {
      const expected = PANELS[json.uid] ?? [];
      assert.deepEqual(
        json.panels.map((p) => p.title),
        expected.map(([title]) => title),
        json.uid,
      );
      for (const [title, unit, description, legends] of expected) {
        const panel = json.panels.find((p) => p.title === title);
        assert.ok(panel, title);
        assert.equal(panel.fieldConfig?.defaults.unit, unit, `${json.uid}: ${title} unit`);
        assert.match(panel.description ?? '', description, `${json.uid}: ${title} description`);
        assert.deepEqual(
          panel.targets?.map((t) => t.legendFormat),
          legends,
          `${json.uid}: ${title} legends`,
        );
      }
    }
  });

  it('Raw Requests heatmap: cells are counts of requests, only the y axis is in seconds', () => {
    const raw = dashboards.find((d) => d.json.uid === 'raw-requests')?.json;
    const heatmap = raw?.panels.find((p) => p.type === 'heatmap');
    assert.ok(heatmap);
    assert.equal(heatmap.options?.yAxis?.unit, 's');
    assert.equal(heatmap.options.cellValues?.unit, 'short');
    assert.notEqual(heatmap.fieldConfig?.defaults.unit, 's');
    // Each column the difference of the cumulative counts over exactly one step (a series
    // newer than that counts from zero): a window longer than the step ($__rate_interval)
    // would count a request in several columns.
    const expr = heatmap.targets?.[0]?.expr ?? '';
    assert.doesNotMatch(expr, /\$__rate_interval/);
    assert.match(expr, /^sum by \(le\) \((\S+) - \(\1 offset \$__interval or \1 \* 0\)\)$/);
  });

  it('no legend renders empty or half-empty for a series that lacks a label (a single-process service has no worker)', () => {
    for (const { json } of dashboards) {
      for (const panel of json.panels) {
        for (const t of panel.targets ?? []) {
          const legend = t.legendFormat ?? '';
          assert.ok(legend.trim(), `${json.uid}: ${panel.title} ${t.refId} has a legend`);
          for (const [, label = ''] of legend.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
            // A label_replace that gives the label a value where it is empty or missing.
            const made = new RegExp(`label_replace\\(.*"${label}", "[^"]+", "\\w+", ""\\)`).test(
              t.expr,
            );
            assert.ok(
              ALWAYS.has(label) || made,
              `${json.uid}: ${panel.title}: {{${label}}} can be empty: "${legend.replaceAll(`{{${label}}}`, '')}"`,
            );
          }
        }
      }
    }
  });
});
