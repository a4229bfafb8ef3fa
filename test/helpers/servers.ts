import type { AddressInfo } from 'node:net';
import type { Handler } from '../../lib/respond.js';
import { buildServer } from '../../lib/server.js';

// Launching a server in its own process is the harness's (harness/servers.ts); this is the
// real server (fastify, /metrics, the safety net) around any listener, in the test's process.
export interface Served {
  url: string;
  stop(): Promise<void>;
}

export async function serve(application: Handler): Promise<Served> {
  const server = buildServer(application);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const { port } = server.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, stop: () => server.close() };
}

// For the suites that read the repository's files.
export { ROOT } from '../../harness/servers.js';
