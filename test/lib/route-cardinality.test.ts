import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import autocannon from 'autocannon';
import { launch, type Running } from '../../harness/servers.js';
import { sample, scrape, seriesLines } from '../helpers/metrics.js';

const FLOOD = 10_000;

// v3's histogram is prom-client's; v7's counts in plain numbers (lib/counted-histogram.ts).
for (const variant of ['hello-world-v3/app-2', 'hello-world-v7/app-2']) {
  describe(`a flood of random URLs to ${variant}`, () => {
    let server: Running;
    before(async () => (server = await launch([variant])));
    after(() => server.stop());

    it('adds no http_request_duration_seconds series after the first unmatched path', async () => {
      const first = await fetch(`${server.url}/${randomBytes(8).toString('hex')}`);
      assert.equal(first.status, 404);
      await first.text();
      const seriesBefore = seriesLines(await scrape(server.url), 'http_request_duration_seconds');

      const result = await autocannon({
        url: server.url,
        amount: FLOOD,
        connections: 10,
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              path: `/${randomBytes(8).toString('hex')}?q=${randomBytes(4).toString('hex')}`,
            }),
          },
        ],
      });
      assert.equal(result.non2xx, FLOOD, 'every random path is a 404');
      assert.equal(result.errors, 0);

      const text = await scrape(server.url);
      const seriesAfter = seriesLines(text, 'http_request_duration_seconds');
      assert.deepEqual(
        seriesAfter.map((l) => l.slice(0, l.lastIndexOf(' '))),
        seriesBefore.map((l) => l.slice(0, l.lastIndexOf(' '))),
      );
      const unmatched = { method: 'GET', route: 'unmatched', status_code: '404' };
      assert.equal(sample(text, 'http_request_duration_seconds_count', unmatched), FLOOD + 1);
      assert.equal(sample(text, 'http_requests_total', unmatched), FLOOD + 1);
      assert.equal(sample(text, 'http_requests_in_flight'), 0);
    });
  });
}
