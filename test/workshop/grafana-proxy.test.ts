// The portal's proxy of Grafana under /grafana/ (GRAFANA_URL=/grafana, as in a dev
// container), against the labelled stand-in for Grafana (grafana-stand-in.ts).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { type Portal, startPortal } from '../../harness/portal.js';
import {
  type GrafanaStandIn as StandIn,
  startGrafanaStandIn as grafanaStandIn,
} from './grafana-stand-in.js';
import { raw, UPGRADE } from './raw-request.js';

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
    assert.match(page.body, /A stand-in for Grafana/);
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

  it('refuses to start when GRAFANA_UPSTREAM has a path, naming the setting', async () => {
    await assert.rejects(
      startPortal([], { GRAFANA_URL: '/grafana', GRAFANA_UPSTREAM: 'http://grafana:3000/grafana' }),
      /served from --grafana-upstream \(or GRAFANA_UPSTREAM\), which must be an http URL with no path/,
    );
  });
});
