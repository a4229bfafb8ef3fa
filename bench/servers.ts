import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

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
  for (const source of ['listen.ts', file]) {
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
        .replaceAll("from './listen.js'", "from './listen.mjs'")
        .replaceAll('../../lib/', '../../dist/lib/')
        .replaceAll('../../apps/', '../../dist/apps/'),
    );
  }
  return [join(dir, file.replace(/\.cts$/, '.cjs').replace(/\.ts$/, '.mjs'))];
}

// The launcher's compiled form, built once per run.
export function build(): void {
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
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

// Pins a process to one CPU where the machine has two or more, so that the server and the
// load generator do not take turns on the same core.
export function pinned(cpu: number, argv: string[]): string[] {
  const cores = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim());
  const taskset = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).status === 0;
  return cores >= 2 && taskset ? ['taskset', '-c', String(cpu), ...argv] : argv;
}

export interface Running {
  spec: ServerSpec;
  url: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function start(spec: ServerSpec, cpu: number): Promise<Running> {
  const [command = '', ...args] = pinned(cpu, [process.execPath, ...spec.command]);
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  const exited = once(child, 'exit');
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { port?: number };
        if (entry.port !== undefined && entry.port !== 0) resolve(entry.port);
      } catch {
        // Not a JSON line: ignore it.
      }
    });
    void exited.then(() => {
      reject(new Error(`${spec.name} exited before listening`));
    });
  });
  child.stdout.resume();
  return {
    spec,
    url: `http://127.0.0.1:${port}/`,
    pid: child.pid ?? 0,
    child,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// CPU seconds (user + system) and resident memory of a process, from /proc.
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

export function rssBytes(pid: number): number {
  const line =
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:')) ?? '';
  return Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
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
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench/load.ts exited ${code}`);
  return JSON.parse(out) as LoadResult;
}
