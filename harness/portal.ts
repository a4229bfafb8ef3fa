import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, track } from './servers.js';

export interface Portal {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  close(): Promise<void>;
}

// A home of its own for the portal's shells, so that they start as a new learner's would,
// without this machine's ~/.bashrc (which stalls a new shell here).
export function emptyHome(): { home: string; remove(): void } {
  const home = mkdtempSync(join(tmpdir(), 'portal-home-'));
  writeFileSync(join(home, '.bashrc'), '');
  // A shell that was just hung up may still be writing its history there: retried.
  return {
    home,
    remove: () => {
      rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

// `npm run workshop -- serve` as an author runs it, on a free port; its shells' HOME is an
// empty folder unless env names one. `command` runs it another way (npm itself).
export async function startPortal(
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  command: string[] = [process.execPath, '--import', 'tsx', 'portal/main.ts'],
): Promise<Portal> {
  const home = env['HOME'] === undefined ? emptyHome() : undefined;
  const [file = '', ...rest] = command;
  const child = track(
    spawn(file, [...rest, 'serve', '--port', '0', ...args], {
      cwd: ROOT,
      env: { ...process.env, HOME: home?.home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  child.once('exit', () => home?.remove());
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit');
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the portal did not listen in 30 s:\n${output}`));
    }, 30_000);
    child.stdout.on('data', () => {
      const m = /the portal is at http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the portal exited before listening:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => output,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
