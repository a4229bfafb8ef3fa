import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { launch, type Running } from '../../harness/servers.js';
import { ok, sample, scrape } from '../helpers/metrics.js';

function rawExchange(url: string, bytes: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(bytes));
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d.toString()));
    socket.on('close', () => {
      resolve(reply);
    });
    socket.on('error', reject);
  });
}

describe('malformed requests', () => {
  let server: Running;
  before(async () => (server = await launch(['hello-world-v3/app-2'])));
  after(() => server.stop());

  it('get a 400, are not counted, and the server keeps serving', async () => {
    await (await fetch(`${server.url}/`)).text();
    for (const garbage of [
      'NOT HTTP AT ALL\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n',
      '\x00\x01\x02\r\n\r\n',
    ]) {
      const reply = await rawExchange(server.url, garbage);
      assert.match(reply, /^HTTP\/1\.1 400 Bad Request/, JSON.stringify(garbage));
    }
    const res = await fetch(`${server.url}/`);
    assert.equal(await res.text(), 'Hello World!');
    const text = await scrape(server.url);
    assert.equal(sample(text, 'http_requests_total', ok()), 2);
    assert.equal(sample(text, 'http_requests_in_flight'), 0);
  });
});
