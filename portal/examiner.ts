// Runs one check program, as Educates' examiner does (`workshop/examiner/tests/<name>`, exit 0
// passes), but never on the portal's event loop's account: a child process with a clean
// environment, in a process group of its own that the time limit kills whole, its output
// kept only as a tail.
import { spawn } from 'node:child_process';
import { constants, accessSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';

// Educates' default time limit, in seconds; 0 means the default there too.
export const DEFAULT_TIMEOUT = 15;
// What is kept of a check's output while it runs: a flood of megabytes is read and dropped.
const TAIL_BYTES = 64 * 1024;
// What the learner is shown of it: the last lines, each cut to a readable length.
const SHOWN_LINES = 20;
const LINE_CHARS = 400;
// Checks running at once in the whole portal; more wait their turn.
const MAX_RUNNING = 4;
// After the program exits, how long its pipes may stay open (a child that left the group).
const DRAIN_MS = 1000;

// Educates' pattern for a test's name: letters, digits and ._/:@+- (subfolders allowed).
const NAME = /^[A-Za-z0-9._/:@+-]+$/;

export interface CheckRun {
  program: string;
  args: string[];
  timeoutSeconds: number;
  // The whole environment of the check: nothing of the portal's leaks in.
  env: Record<string, string>;
  cwd: string;
  // Aborted when the learner leaves the page: the check is killed, not waited for.
  signal?: AbortSignal;
}

export interface CheckResult {
  passed: boolean;
  // "passed", "failed (exit 1)", "stopped after 15 s (its time limit)", ...
  status: string;
  output: string;
}

// The executable for a check's name, inside testsDir after symlinks are resolved; throws
// with what is wrong.
export function findCheck(testsDir: string, name: string): string {
  if (!NAME.test(name) || name.split('/').some((part) => part === '..' || part === '.'))
    throw new Error(`"${name}" is not a check's name (letters, digits and ._/:@+-)`);
  const dir = realpathSync(testsDir);
  let path: string;
  try {
    path = realpathSync(join(dir, name));
  } catch {
    throw new Error(`no check ${name} in workshop/examiner/tests/`);
  }
  if (!path.startsWith(dir + sep)) throw new Error(`${name} lies outside workshop/examiner/tests/`);
  if (!statSync(path).isFile()) throw new Error(`${name} is not a file`);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${name} is not executable (chmod +x workshop/examiner/tests/${name})`);
  }
  return path;
}

// The last lines of what the check printed, as plain text: terminal escapes and control
// characters dropped, a carriage return's overwritten text too.
export function tail(bytes: Buffer, cut: boolean): string {
  const lines = bytes
    .toString('utf8')
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')
    .split('\n')
    .map((line) => (line.split('\r').pop() ?? '').replace(/[\p{Cc}]/gu, ''))
    .map((line) => (line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS)}…` : line));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const shown = lines.slice(-SHOWN_LINES);
  return (cut || lines.length > shown.length ? '…\n' : '') + shown.join('\n');
}

const waiting: Array<() => void> = [];
let running = 0;

async function turn(signal: AbortSignal | undefined): Promise<boolean> {
  if (running < MAX_RUNNING) {
    running++;
    return true;
  }
  return new Promise((resolve) => {
    const go = (): void => {
      signal?.removeEventListener('abort', leave);
      running++;
      resolve(true);
    };
    const leave = (): void => {
      waiting.splice(waiting.indexOf(go), 1);
      resolve(false);
    };
    waiting.push(go);
    signal?.addEventListener('abort', leave, { once: true });
  });
}

function done(): void {
  running--;
  waiting.shift()?.();
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
}

export async function runCheck(run: CheckRun): Promise<CheckResult> {
  if (!(await turn(run.signal)))
    return { passed: false, status: 'stopped: the page was left', output: '' };
  try {
    return await spawnCheck(run);
  } finally {
    done();
  }
}

function spawnCheck(run: CheckRun): Promise<CheckResult> {
  const limit = run.timeoutSeconds > 0 ? run.timeoutSeconds : DEFAULT_TIMEOUT;
  return new Promise((resolve) => {
    let kept: Buffer[] = [];
    let size = 0;
    let cut = false;
    let why: string | undefined;
    const child = spawn(run.program, run.args, {
      cwd: run.cwd,
      env: run.env,
      // A process group of its own: the time limit kills the check and all it started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer): void => {
      kept.push(chunk);
      size += chunk.length;
      if (size > 2 * TAIL_BYTES) {
        const all = Buffer.concat(kept);
        kept = [all.subarray(all.length - TAIL_BYTES)];
        size = TAIL_BYTES;
        cut = true;
      }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const stop = (reason: string): void => {
      why ??= reason;
      killGroup(child.pid);
    };
    const timer = setTimeout(() => {
      stop(`stopped after ${limit} s (its time limit)`);
    }, limit * 1000);
    const onAbort = (): void => {
      stop('stopped: the page was left');
    };
    run.signal?.addEventListener('abort', onAbort, { once: true });
    if (run.signal?.aborted === true) onAbort();
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let failed: Error | undefined;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      const output = tail(Buffer.concat(kept), cut);
      if (failed !== undefined) {
        resolve({ passed: false, status: `cannot run it: ${failed.message}`, output });
        return;
      }
      const passed = why === undefined && exit?.code === 0;
      const status =
        why ??
        (passed
          ? 'passed'
          : exit?.code !== null && exit?.code !== undefined
            ? `failed (exit ${exit.code})`
            : `failed (killed by ${exit?.signal ?? 'a signal'})`);
      resolve({ passed, status, output });
    };
    child.once('error', (err) => {
      failed = err;
      finish();
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // What the check left running in its group goes with it.
      killGroup(child.pid);
      const drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, DRAIN_MS);
      child.once('close', () => {
        clearTimeout(drain);
        finish();
      });
    });
  });
}
