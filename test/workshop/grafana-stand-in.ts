// A STAND-IN for Grafana, for tests only: there is no Grafana binary on this machine. It is a
// real HTTP server that answers what the portal and its Grafana tab ask of Grafana:
// /api/health as Grafana's does (200 and "database": "ok" when up, 503 and "failing" when
// not), and any dashboard path with a page that says it is a stand-in.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GrafanaStandIn {
  url: string;
  healthy: boolean;
  // How many times /api/health was asked.
  healthRequests: number;
  close(): Promise<void>;
}

export async function startGrafanaStandIn(healthy = true): Promise<GrafanaStandIn> {
  const server = createServer((req, res) => {
    if (req.url === '/api/health') {
      stand.healthRequests++;
      res.writeHead(stand.healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ database: stand.healthy ? 'ok' : 'failing', version: 'stand-in' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>Grafana stand-in</title><h1>A stand-in for Grafana</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stand: GrafanaStandIn = {
    url: `http://127.0.0.1:${port}`,
    healthy,
    healthRequests: 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
  return stand;
}
