import { spawn, type ChildProcess } from 'node:child_process';
import type { Handler } from '../../lib/respond.js';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildServer } from '../../lib/server.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Running {
  url: string;
  close(): Promise<void>;
}

// The real server (fastify, /metrics, the safety net) around any listener, on a free port.
export async function serve(application: Handler): Promise<Running> {
  const server = buildServer(application);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const { port } = server.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

export interface Launched extends Running {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

function parseLine(line: string): { port?: number; url?: string } | undefined {
  try {
    return JSON.parse(line) as { port?: number; url?: string };
  } catch {
    return undefined;
  }
}

// The launcher as a learner runs it, in its own process, on a free port.
export async function launch(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Launched> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'lib/start-server.ts', ...args, '--port', '0'],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const rl = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    rl.on('line', (line) => {
      lines.push(line);
      const entry = parseLine(line);
      if (entry?.url !== undefined && entry.port !== undefined) resolve(entry.port);
    });
    void exited.then((code) => {
      reject(new Error(`launcher exited ${code} before listening: ${stderr}`));
    });
    setTimeout(() => {
      reject(new Error(`launcher not listening after 20 s: ${stderr}`));
    }, 20_000).unref();
  });
  return {
    child,
    lines,
    exited,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
