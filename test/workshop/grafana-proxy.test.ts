import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { type Portal, startPortal } from './portal-process.js';
import { raw, UPGRADE } from './raw-request.js';

// A STAND-IN for Grafana (there is no Grafana binary on this machine): a real HTTP server and
// a real WebSocket server on port 0, answering under /grafana/ as Grafana does with
// serve_from_sub_path, recording what reached it and echoing Live's messages. It checks the
// portal's proxy, not Grafana; Grafana's own side is configured in .devcontainer/compose.yml.
interface StandIn {
  url: string;
  seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }>;
  live: Array<{ headers: IncomingHttpHeaders; protocol: string }>;
  close(): Promise<void>;
}

async function grafanaStandIn(): Promise<StandIn> {
  const seen: StandIn['seen'] = [];
  const live: StandIn['live'] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (d: Buffer) => (body += d.toString()));
    request.on('end', () => {
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
      });
      if (request.url === '/grafana/login')
        response.writeHead(302, { location: 'http://localhost:3000/grafana/?orgId=1' }).end();
      else if (request.method === 'POST')
        response.writeHead(200, { 'content-type': 'application/json' }).end(`{"echo":${body}}`);
      else
        response
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<title>Grafana stand-in</title>');
    });
  });
  const wss = new WebSocketServer({ server, path: '/grafana/api/live/ws' });
  wss.on('connection', (socket, request) => {
    live.push({ headers: request.headers, protocol: socket.protocol });
    socket.on('message', (data, binary) => {
      if (!binary && Buffer.from(data as Buffer).toString() === 'bye') socket.close(1000);
      else socket.send(data, { binary });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    live,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

const TOKEN = 'a-token-of-twenty-four-c';

describe('Grafana served by the portal under /grafana/ (GRAFANA_URL=/grafana)', () => {
  let grafana: StandIn;
  let portal: Portal;
  let own: Record<string, string>;
  before(async () => {
    grafana = await grafanaStandIn();
    portal = await startPortal([], {
      GRAFANA_URL: '/grafana',
      GRAFANA_UPSTREAM: grafana.url,
      WORKSHOP_TOKEN: TOKEN,
    });
    own = {
      Host: `127.0.0.1:${portal.port}`,
      Origin: `http://127.0.0.1:${portal.port}`,
      Cookie: `grafana_session=abc; workshop_token=${TOKEN}`,
    };
  });
  after(async () => {
    await portal.close();
    await grafana.close();
  });

  it('forwards a page as Grafana would be asked for it, without the Origin or the portal token', async () => {
    const page = await raw(portal.port, own, '/grafana/d/raw-requests?var-variant=hello-world-v1');
    assert.equal(page.status, 200);
    assert.match(page.body, /Grafana stand-in/);
    const request = grafana.seen.at(-1);
    assert.equal(request?.url, '/grafana/d/raw-requests?var-variant=hello-world-v1');
    assert.equal(request.headers.host, new URL(grafana.url).host);
    assert.equal(request.headers.origin, undefined);
    assert.equal(request.headers.cookie, 'grafana_session=abc');
  });

  it("passes a query's POST both ways, and refuses one over 1 MiB or without a length", async () => {
    const query = JSON.stringify({ queries: [{ refId: 'A', expr: 'up' }] });
    const answer = await fetch(`${portal.url}/grafana/api/ds/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: own['Cookie'] ?? '' },
      body: query,
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), { echo: JSON.parse(query) as unknown });
    const big = await fetch(`${portal.url}/grafana/api/ds/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: own['Cookie'] ?? '' },
      body: 'x'.repeat((1 << 20) + 1),
    });
    assert.equal(big.status, 413);
    const put = await fetch(`${portal.url}/grafana/api/dashboards/db`, {
      method: 'PUT',
      headers: { cookie: own['Cookie'] ?? '' },
      body: '{}',
    });
    assert.equal(put.status, 404);
    assert.ok(!grafana.seen.some((r) => r.method === 'PUT' || r.body.length > 1 << 20));
  });

  it("keeps Grafana's redirects to its root_url on the portal's origin", async () => {
    const redirect = await raw(portal.port, own, '/grafana/login');
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers['location'], '/grafana/?orgId=1');
  });

  it("bridges Grafana Live's WebSocket both ways, with its subprotocol and without Origin", async () => {
    const client = new WebSocket(
      `ws://127.0.0.1:${portal.port}/grafana/api/live/ws`,
      ['centrifuge-json'],
      {
        headers: { Origin: own['Origin'] ?? '', Cookie: own['Cookie'] ?? '' },
      },
    );
    await once(client, 'open');
    assert.equal(client.protocol, 'centrifuge-json');
    client.send('{"id":1,"connect":{}}');
    const [echo] = (await once(client, 'message')) as [Buffer];
    assert.equal(echo.toString(), '{"id":1,"connect":{}}');
    const upstream = grafana.live.at(-1);
    assert.equal(upstream?.protocol, 'centrifuge-json');
    assert.equal(upstream.headers.origin, undefined);
    assert.equal(upstream.headers.cookie, 'grafana_session=abc');
    client.send('bye');
    const [code] = (await once(client, 'close')) as [number];
    assert.equal(code, 1000);
  });

  it('refuses a foreign Host or Origin on /grafana/ and its WebSocket (403), and asks for the token', async () => {
    const before = grafana.seen.length;
    assert.equal(
      (await raw(portal.port, { ...own, Host: 'evil.example' }, '/grafana/')).status,
      403,
    );
    assert.equal(
      (await raw(portal.port, { ...own, Origin: 'http://evil.example' }, '/grafana/')).status,
      403,
    );
    assert.equal(
      (
        await raw(
          portal.port,
          { ...own, Origin: 'http://evil.example', ...UPGRADE },
          '/grafana/api/live/ws',
        )
      ).status,
      403,
    );
    assert.equal((await raw(portal.port, { Host: own['Host'] ?? '' }, '/grafana/')).status, 401);
    assert.equal(grafana.seen.length, before);
  });

  it('points the Grafana tab and the dashboard actions at /grafana on the same origin', async () => {
    const page = await raw(portal.port, own);
    assert.match(page.body, /"grafanaUrl":"\/grafana"/);
    const rendered = await raw(portal.port, own, '/api/pages/06-response-completion');
    assert.match(rendered.body, /\/grafana\/d\/raw-requests\?var-variant=hello-world-v3-1/);
  });
});

describe('Grafana under /grafana/ when Grafana does not answer', () => {
  it('says so in words, naming where it was asked', async () => {
    const gone = await grafanaStandIn();
    const upstream = gone.url;
    await gone.close();
    const portal = await startPortal([], { GRAFANA_URL: '/grafana', GRAFANA_UPSTREAM: upstream });
    try {
      const answer = await raw(portal.port, { Host: `localhost:${portal.port}` }, '/grafana/');
      assert.equal(answer.status, 502);
      assert.match(
        answer.body,
        new RegExp(`Grafana does not answer at ${upstream}: is the grafana service up\\?`),
      );
    } finally {
      await portal.close();
    }
  });

  it('refuses to start with GRAFANA_URL=/grafana and no GRAFANA_UPSTREAM, naming the setting', async () => {
    await assert.rejects(
      startPortal([], { GRAFANA_URL: '/grafana', GRAFANA_UPSTREAM: '' }),
      /give --grafana-upstream \(or GRAFANA_UPSTREAM\)/,
    );
  });
});
