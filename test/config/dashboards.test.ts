import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from '../helpers/servers.js';

const DIR = join(ROOT, 'grafana/dashboards');
const datasources = parse(
  readFileSync(join(ROOT, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
) as { datasources: { uid: string; type: string }[] };
const provisionedUid = datasources.datasources[0]?.uid;

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { datasource?: { uid: string }; expr: string; refId: string }[];
  fieldConfig?: { defaults?: { unit?: string } };
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
    assert.equal(perRequest?.fieldConfig?.defaults?.unit, 's');
    assert.equal(
      expr('CPU per request by app service'),
      `${expr('CPU by app service')} / ` +
        '(sum by (job) (rate(http_requests_total{job=~"hello-world.*"}[$__rate_interval])) > 10)',
    );
  });
});
