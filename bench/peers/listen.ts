import type { FastifyInstance } from 'fastify';

// The peers report where they listen as the launcher does (a JSON line with `port`), and
// stop on SIGTERM, so the bench drives them all alike.
export async function listen(app: FastifyInstance): Promise<void> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`,
  );
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}
