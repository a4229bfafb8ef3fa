// The Grafana tab asks the portal whether Grafana answers; the portal asks Grafana's
// /api/health at the address it reaches Grafana on (--grafana-upstream), at most once every
// few seconds whatever the number of pages asking. Grafana here is a labelled stand-in.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { type GrafanaStandIn, startGrafanaStandIn } from './grafana-stand-in.js';
import { type Portal, startPortal } from '../../harness/portal.js';

interface Status {
  up: boolean;
  message?: string;
}

const status = async (portal: Portal): Promise<Status> =>
  (await (await fetch(`${portal.url}/api/grafana`)).json()) as Status;

// A port nothing listens on: taken from the system, then let go.
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("the portal's word on Grafana", () => {
  let grafana: GrafanaStandIn;
  let portal: Portal;
  before(async () => {
    grafana = await startGrafanaStandIn(false);
    portal = await startPortal(['--grafana-upstream', grafana.url]);
  });
  after(async () => {
    await portal.close();
    await grafana.close();
  });

  it('asks Grafana once for 200 pages asking at once', async () => {
    assert.equal(grafana.healthRequests, 0);
    const answers = await Promise.all(Array.from({ length: 200 }, () => status(portal)));
    assert.ok(answers.every((a) => !a.up));
    assert.equal(grafana.healthRequests, 1);
  });

  it('says in words that Grafana does not answer, and that it does once it answers', async () => {
    const down = await status(portal);
    assert.equal(down.up, false);
    assert.equal(
      down.message,
      `Grafana does not answer at ${grafana.url} (/api/health answered 503): is the grafana service up? \`docker compose ps grafana\``,
    );
    grafana.healthy = true;
    let now = down;
    for (let i = 0; i < 100 && !now.up; i++) {
      await sleep(100);
      now = await status(portal);
    }
    assert.deepEqual(now, { up: true });
  });

  it('names the address and the refusal when nothing listens there', async () => {
    const port = await closedPort();
    const nowhere = await startPortal(['--grafana-upstream', `http://127.0.0.1:${port}/`]);
    try {
      assert.deepEqual(await status(nowhere), {
        up: false,
        message: `Grafana does not answer at http://127.0.0.1:${port} (ECONNREFUSED): is the grafana service up? \`docker compose ps grafana\``,
      });
    } finally {
      await nowhere.close();
    }
  });
});
