import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { ROOT, track } from '../../harness/servers.js';

export interface Portal {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  close(): Promise<void>;
}

// `npm run workshop -- serve` as an author runs it, on a free port.
export async function startPortal(
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<Portal> {
  const child = track(
    spawn(
      process.execPath,
      ['--import', 'tsx', 'portal/main.ts', 'serve', '--port', '0', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
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
