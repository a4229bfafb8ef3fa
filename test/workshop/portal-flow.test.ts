// Flow control on a terminal's output: `yes` and a client that stops reading cost the
// portal a bounded amount, a client that reads sees everything, and a peer that stops
// answering pings is let go.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { rssBytes } from '../../harness/servers.js';
import { responsiveDuring } from './healthz.js';
import { type Portal, startPortal } from '../../harness/portal.js';
import { attachTerminal, shellAnswers } from '../../harness/terminal-client.js';

// The aim of the portal soak (npm run bench -- --portal) for peak resident memory; before
// flow control a stalled client grew it 10 MB a second without end.
const RSS_LIMIT = 200 * 2 ** 20;
const mib = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;

describe('flow control on a terminal', () => {
  let portal: Portal;
  before(async () => {
    portal = await startPortal();
  });
  after(async () => {
    await portal.close();
  });

  // Resident memory of the portal, sampled every 100 ms while `work` runs: the peak.
  async function peakRss(work: () => Promise<void>): Promise<number> {
    let peak = 0;
    const state = { done: false };
    const sampler = (async () => {
      while (!state.done) {
        peak = Math.max(peak, rssBytes(portal.child.pid ?? 0));
        await sleep(100);
      }
    })();
    try {
      await responsiveDuring(portal.url, work);
    } finally {
      state.done = true;
      await sampler;
    }
    return peak;
  }

  it('sends 50 MB of output in full to a client that reads while another has stopped reading, and lets that one go', async () => {
    const reader = await attachTerminal(portal.url, '1');
    const stalled = await attachTerminal(portal.url, '1');
    try {
      stalled.stall();
      const before = reader.received();
      const peak = await peakRss(async () => {
        reader.execute('yes | head -c 50000000; echo flow-$((40 + 2))');
        await reader.waitFor(/^flow-42/m, 170_000);
      });
      // The pty turns each "y\n" into "y\r\n": 75 million characters.
      assert.ok(reader.received() - before >= 75_000_000, `${reader.received() - before} received`);
      assert.ok(peak <= RSS_LIMIT, `peak RSS ${mib(peak)}`);
      stalled.unstall();
      assert.equal(await stalled.closed, 1006, 'the portal ended the stalled connection');
    } finally {
      await reader.close();
      await stalled.close();
    }
  });

  it('costs a bounded amount while yes runs and the only client has stopped reading', async () => {
    const stalled = await attachTerminal(portal.url, '2');
    let reader;
    try {
      stalled.stall();
      stalled.execute('yes');
      const peak = await peakRss(() => sleep(15_000));
      assert.ok(peak <= RSS_LIMIT, `peak RSS ${mib(peak)} with yes and a stalled client`);
      // A client that reads gets the output going again.
      reader = await attachTerminal(portal.url, '2');
      const at = reader.received();
      await reader.waitFor(/(y\r\n){1000}/);
      assert.ok(reader.received() > at);
      reader.send({ t: 'interrupt' });
    } finally {
      await stalled.close();
      await reader?.close();
    }
    await shellAnswers(portal.url, '2');
  });

  it('ends a connection that answers no ping within two heartbeats (30 s), and keeps one that answers', async () => {
    const silent = await attachTerminal(portal.url, '3', { ws: { autoPong: false } });
    const alive = await attachTerminal(portal.url, '3');
    try {
      const code = await Promise.race([silent.closed, sleep(60_000, 'still open after 60 s')]);
      assert.equal(code, 1006);
      assert.equal(alive.ws.readyState, alive.ws.OPEN);
    } finally {
      await silent.close();
      await alive.close();
    }
  });
});
