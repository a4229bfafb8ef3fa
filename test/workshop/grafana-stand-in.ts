// A STAND-IN for Grafana, for tests only: there is no Grafana binary on this machine. It is a
// real HTTP server that answers what the portal and its Grafana tab ask of Grafana:
// /api/health as Grafana's does (200 and "database": "ok" when up, 503 and "failing" when
// not), and any dashboard path with a page that says it is a stand-in and names the path.
// For the portal's proxy under /grafana/ (a dev container) it also records every request,
// echoes a POST's body as JSON, redirects /grafana/login to Grafana's root_url as Grafana
// does, and echoes Grafana Live's WebSocket at /grafana/api/live/ws ("bye" closes it).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface GrafanaStandIn {
  url: string;
  healthy: boolean;
  // How many times /api/health was asked.
  healthRequests: number;
  seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }>;
  live: Array<{ headers: IncomingHttpHeaders; protocol: string }>;
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
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      stand.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/grafana/login')
        res.writeHead(302, { location: 'http://localhost:3000/grafana/?orgId=1' }).end();
      else if (req.method === 'POST')
        res.writeHead(200, { 'content-type': 'application/json' }).end(`{"echo":${body}}`);
      else
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(
            '<!doctype html><title>Grafana stand-in</title><h1>A stand-in for Grafana</h1>' +
              `<p id="path">${(req.url ?? '').replace(/[<>&"]/g, '')}</p>`,
          );
    });
  });
  const live = new WebSocketServer({ server, path: '/grafana/api/live/ws' });
  live.on('connection', (socket, req) => {
    stand.live.push({ headers: req.headers, protocol: socket.protocol });
    socket.on('message', (data, binary) => {
      if (!binary && Buffer.from(data as Buffer).toString() === 'bye') socket.close(1000);
      else socket.send(data, { binary });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stand: GrafanaStandIn = {
    url: `http://127.0.0.1:${port}`,
    healthy,
    healthRequests: 0,
    seen: [],
    live: [],
    close: () =>
      new Promise((resolve) => {
        for (const client of live.clients) client.terminate();
        live.close();
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
  return stand;
}
