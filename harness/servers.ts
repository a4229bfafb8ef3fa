// The one harness that test/, bench/ and scripts/ use to start a server (or a tool such as
// Prometheus) in a process of its own, read its address, and stop it on every path.
//
//   ROOT                      the repository's folder, ending in '/'.
//   launch(args, options)     the launcher as a learner runs it, `lib/start-server.ts ARGS
//                             --port 0` under tsx (or, with `compiled: true`, the build's
//                             dist/lib/start-server.js: run build() first); resolves once it
//                             logs its address.
//   start(argv, options)      any Node program that logs a JSON line with a non-zero "port"
//                             (the benchmark's peers): `node ARGV`.
//   Running                   what both resolve to: url (`http://127.0.0.1:PORT`, no trailing
//                             slash), port, pid, child, lines (its stdout so far), exited (its
//                             exit code, once it exits) and stop() (SIGTERM, then its exit).
//   options                   env (added to this process's), cpu (pin to that CPU with
//                             taskset), wrap (a command that runs node, e.g. valgrind and
//                             its options), stderr ('pipe', kept for the error message, or
//                             'inherit'), timeoutMs (to listen; default 30 s).
//   track(child)              any other child process, stopped with the rest.
//   build()                   `npm run build`, for the compiled launcher.
//   pinned(cpu, argv)         argv under `taskset -c CPU` where two cores and taskset allow.
//   cpuSeconds(pid), rssBytes(pid)   CPU time (user + system) and resident memory, from /proc.
//
// Every process started here is sent SIGTERM when this process exits, or is interrupted by
// SIGINT, SIGTERM or SIGHUP, whether or not the caller got as far as stop(); and none keeps
// this process alive (a test file whose before() failed still exits) unless it is waited for.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface Running {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  lines: string[];
  // Reading it keeps this process alive until the child exits.
  readonly exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cpu?: number;
  wrap?: string[];
  stderr?: 'pipe' | 'inherit';
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();
let handlersInstalled = false;

function stopAll(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const child of live) if (child.exitCode === null) child.kill(signal);
}

function interrupted(signal: NodeJS.Signals): void {
  stopAll();
  process.removeListener(signal, interrupted);
  // With no other handler left, the signal's default: this process ends as it would have.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

// The pipes of a child process are sockets, which can be unreferenced like the child.
function unref(stream: Readable | null): void {
  (stream as { unref?: () => void } | null)?.unref?.();
}

export function track<T extends ChildProcess>(child: T): T {
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on('exit', () => {
      stopAll();
    });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, interrupted);
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
  // An error to spawn (ENOENT) is reported by the caller's wait for the child; unhandled, it
  // would end this process.
  child.once('error', () => live.delete(child));
  return child;
}

// Pins a process to one CPU where the machine has two or more, so that a server and its load
// generator do not take turns on the same core.
export function pinned(cpu: number, argv: string[]): string[] {
  const cores = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim());
  const taskset = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).status === 0;
  return cores >= 2 && taskset ? ['taskset', '-c', String(cpu), ...argv] : argv;
}

// The launcher's compiled form, as the Docker image runs it; built once per run.
export function build(): void {
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
}

function portOf(line: string): number | undefined {
  try {
    const entry = JSON.parse(line) as { port?: unknown };
    return typeof entry.port === 'number' && entry.port !== 0 ? entry.port : undefined;
  } catch {
    return undefined; // not a JSON line
  }
}

export async function start(argv: string[], options: StartOptions = {}): Promise<Running> {
  const { env = {}, cpu, wrap = [], stderr = 'pipe', timeoutMs = 30_000 } = options;
  const full = [...wrap, process.execPath, ...argv];
  const [command = '', ...args] = cpu === undefined ? full : pinned(cpu, full);
  const child = track(
    spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', stderr],
    }),
  );
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code);
    });
    child.once('error', () => {
      resolve(null);
    });
  });
  let errors = '';
  child.stderr?.on('data', (d: Buffer) => (errors += d.toString()));
  const lines: string[] = [];
  const name = argv.filter((a) => !a.startsWith('-')).join(' ');
  let timer: NodeJS.Timeout | undefined;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout as Readable }).on('line', (line) => {
        lines.push(line);
        const port = portOf(line);
        if (port !== undefined) resolve(port);
      });
      child.once('error', reject);
      void exited.then((code) => {
        reject(new Error(`${name} exited ${code} before listening: ${errors}`));
      });
      timer = setTimeout(() => {
        reject(new Error(`${name} not listening after ${timeoutMs / 1000} s: ${errors}`));
      }, timeoutMs);
    });
    child.unref();
    unref(child.stdout);
    unref(child.stderr);
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      pid: child.pid ?? 0,
      child,
      lines,
      get exited() {
        child.ref();
        return exited;
      },
      async stop() {
        child.ref();
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        return exited;
      },
    };
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export function launch(args: string[], options: StartOptions & { compiled?: boolean } = {}) {
  const { compiled = false, ...rest } = options;
  const launcher = compiled
    ? ['dist/lib/start-server.js']
    : ['--import', 'tsx', 'lib/start-server.ts'];
  return start([...launcher, ...args, '--port', '0'], rest);
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
