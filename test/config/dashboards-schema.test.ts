// Both dashboards type-checked against Grafana's own schema types (@grafana/schema at the
// pinned image's version): each file written out as a TypeScript literal that must satisfy
// the dashboard type, and each panel its panel type's options, so that an unknown key, a
// misspelt option or a value Grafana does not take fails here, not silently in Grafana.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { ROOT } from '../helpers/servers.js';

const DIR = join(ROOT, 'grafana/dashboards');
const OUT = join(ROOT, '.tmp/dashboard-schema');
const schemaVersion = (
  JSON.parse(readFileSync(join(ROOT, 'node_modules/@grafana/schema/package.json'), 'utf8')) as {
    version: string;
  }
).version;
const grafanaImage = /^GRAFANA_IMAGE=grafana\/grafana:(\d+)\.(\d+)\./m.exec(
  readFileSync(join(ROOT, '.env'), 'utf8'),
);

const PRELUDE = `
import type { Dashboard, FieldConfig, Panel, DataQuery } from '@grafana/schema';
import type * as heatmap from '@grafana/schema/dist/types/raw/composable/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen.js';
import type * as timeseries from '@grafana/schema/dist/types/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen.js';

// JSON holds an enum's value, not the enum: "scheme", not HeatmapColorMode.Scheme.
type Plain<T> = T extends string
  ? \`\${T}\`
  : T extends (infer E)[]
    ? Plain<E>[]
    : T extends object
      ? { [K in keyof T]: Plain<T[K]> }
      : T;
// The Prometheus datasource's query (its schema is not in @grafana/schema).
type PrometheusQuery = DataQuery & {
  expr: string;
  legendFormat?: string;
  range?: boolean;
  instant?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  interval?: string;
};
type Typed<Type extends string, Options, Custom> = Omit<Panel, 'type' | 'options' | 'targets' | 'fieldConfig'> & {
  type: Type;
  options: Plain<Partial<Options>>;
  targets: PrometheusQuery[];
  fieldConfig: {
    defaults: Omit<FieldConfig, 'custom'> & { custom?: Plain<Partial<Custom>> };
    overrides: [];
  };
};
export type HeatmapPanel = Typed<'heatmap', heatmap.Options, heatmap.FieldConfig>;
export type TimeseriesPanel = Typed<'timeseries', timeseries.Options, timeseries.FieldConfig>;
export type Board = Omit<Dashboard, 'panels'>;
`;

const TYPES: Record<string, string> = { heatmap: 'HeatmapPanel', timeseries: 'TimeseriesPanel' };

function source(file: string): string {
  const json = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as {
    panels: { type: string; title: string }[];
  };
  const { panels, ...board } = json;
  const lines = [
    "import type { Board, HeatmapPanel, TimeseriesPanel } from './prelude.js';",
    `export const board = ${JSON.stringify(board, null, 2)} satisfies Board;`,
  ];
  panels.forEach((panel, i) => {
    const type = TYPES[panel.type];
    assert.ok(type, `${file}: ${panel.title} is a ${panel.type}, a type this check does not know`);
    lines.push(`export const panel${i} = ${JSON.stringify(panel, null, 2)} satisfies ${type};`);
  });
  return lines.join('\n') + '\n';
}

describe('grafana dashboards against @grafana/schema', () => {
  it('checks against the schema of the pinned Grafana image', () => {
    assert.ok(grafanaImage, 'GRAFANA_IMAGE in .env names a version');
    assert.equal(
      schemaVersion.split('.').slice(0, 2).join('.'),
      `${grafanaImage[1]}.${grafanaImage[2]}`,
    );
  });

  it('type-check: every dashboard and every panel satisfies its schema type', () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'prelude.ts'), PRELUDE);
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
    assert.equal(files.length, 2);
    for (const f of files) writeFileSync(join(OUT, f.replace(/\.json$/, '.ts')), source(f));
    const program = ts.createProgram(
      readdirSync(OUT).map((f) => join(OUT, f)),
      {
        strict: true,
        noEmit: true,
        exactOptionalPropertyTypes: false,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        skipLibCheck: true,
        types: [],
      },
    );
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file
        ? `${d.file.fileName.replace(`${OUT}/`, '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
        : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    assert.deepEqual(errors, []);
  });
});
