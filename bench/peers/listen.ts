import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';

// The peers report where they listen as the launcher does (a JSON line with `port`), and
// stop on SIGTERM, so the bench drives them all alike.
function announce(server: Server): void {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`,
  );
}

export async function listen(app: FastifyInstance): Promise<void> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  announce(app.server);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

// The same for a node:http server.
export function listenPlain(server: Server): void {
  server.listen(0, '127.0.0.1', () => {
    announce(server);
  });
  process.once('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
