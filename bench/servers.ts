import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import {
  ROOT,
  pinned,
  start as startProcess,
  track,
  type Running as Started,
} from '../harness/servers.js';

export interface ServerSpec {
  name: string;
  // What the row is a ratio to.
  baseline: string;
  command: string[];
  // The instrumentation the workshop recommends: the benchmark says how it stands.
  recommended?: boolean;
}

// Everything runs compiled, as in the Docker image: under tsx's loader the same server
// spends about a third more CPU per request (measured: 13.7 against 9.4 µs for v1).
const launcher = (variant: string): string[] => [
  'dist/lib/start-server.js',
  variant,
  '--port',
  '0',
];

// The peers are transpiled by TypeScript next to each other under .tmp/bench; OpenTelemetry's
// peer is CommonJS, because the instrumentation patches require('http').
export function peer(file: string): string[] {
  const dir = join(ROOT, '.tmp', 'bench');
  mkdirSync(dir, { recursive: true });
  for (const source of ['listen.ts', 'status-route.ts', file]) {
    const cjs = source.endsWith('.cts');
    const text = readFileSync(join(ROOT, 'bench/peers', source), 'utf8');
    const module = cjs ? ts.ModuleKind.CommonJS : ts.ModuleKind.ESNext;
    const { outputText } = ts.transpileModule(text, {
      compilerOptions: { module, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(
      join(dir, source.replace(/\.cts$/, '.cjs').replace(/\.ts$/, '.mjs')),
      // A fixture that imports the repository's own code gets its compiled form (`npm run build`).
      outputText
        .replace(/from '\.\/([a-z-]+)\.js'/g, "from './$1.mjs'")
        .replaceAll('../../lib/', '../../dist/lib/')
        .replaceAll('../../apps/', '../../dist/apps/'),
    );
  }
  return [join(dir, file.replace(/\.cts$/, '.cjs').replace(/\.ts$/, '.mjs'))];
}

export function specs(): ServerSpec[] {
  return [
    { name: 'hello-world-v1', baseline: 'hello-world-v1', command: launcher('hello-world-v1') },
    {
      name: 'hello-world-v2/app-1',
      baseline: 'hello-world-v1',
      command: launcher('hello-world-v2/app-1'),
    },
    {
      name: 'hello-world-v3/app-2',
      baseline: 'hello-world-v1',
      command: launcher('hello-world-v3/app-2'),
    },
    {
      name: 'hello-world-v4/app-1',
      baseline: 'hello-world-v1',
      command: launcher('hello-world-v4/app-1'),
    },
    {
      name: 'hello-world-v4/app-2',
      baseline: 'hello-world-v1',
      command: launcher('hello-world-v4/app-2'),
    },
    {
      name: 'hello-world-v5/app-2',
      baseline: 'hello-world-v1',
      command: launcher('hello-world-v5/app-2'),
    },
    {
      name: 'hello-world-v6/app-2',
      baseline: 'hello-world-v1',
      command: launcher('hello-world-v6/app-2'),
    },
    {
      name: 'hello-world-v7/app-2',
      baseline: 'hello-world-v1',
      command: launcher('hello-world-v7/app-2'),
      recommended: true,
    },
    {
      name: 'fastify (no metrics)',
      baseline: 'fastify (no metrics)',
      command: peer('fastify-plain.ts'),
    },
    {
      name: 'fastify + prom-client hooks',
      baseline: 'fastify (no metrics)',
      command: peer('fastify-prom-hook.ts'),
    },
    {
      name: 'fastify + fastify-metrics',
      baseline: 'fastify (no metrics)',
      command: peer('fastify-metrics.ts'),
    },
    { name: 'node:http + OpenTelemetry', baseline: 'hello-world-v1', command: peer('otel.cts') },
  ];
}

// A server of the table, started by the harness, pinned to one CPU. (The benchmark's URLs end
// in '/', the request path it loads.)
export interface Running extends Started {
  spec: ServerSpec;
}

export async function start(spec: ServerSpec, cpu: number): Promise<Running> {
  const running = await startProcess(spec.command, { cpu, stderr: 'inherit' });
  return Object.assign(running, { spec, url: `${running.url}/` });
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

// One autocannon run (bench/load.ts) in a process of its own, pinned to CPU 1, apart from
// the server on CPU 0.
export async function load(url: string, seconds: number, connections: number): Promise<LoadResult> {
  const [command = '', ...args] = pinned(1, [
    process.execPath,
    '--import',
    'tsx',
    'bench/load.ts',
    url,
    String(seconds),
    String(connections),
  ]);
  const child = track(spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench/load.ts exited ${code}`);
  return JSON.parse(out) as LoadResult;
}
