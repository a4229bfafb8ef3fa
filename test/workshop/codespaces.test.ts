import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { codespaceFromEnv, forwardedUrl } from '../../portal/codespaces.js';
import { type Portal, startPortal } from '../../harness/portal.js';
import { raw, UPGRADE } from './raw-request.js';

// What GitHub Codespaces sets in a codespace (its "Default environment variables" page), and
// what docker-compose.yml's workshop service passes on from it (.devcontainer/compose.yml).
const CODESPACE = {
  CODESPACES: 'true',
  CODESPACE_NAME: 'octocat-literate-space-parakeet-mld5',
  GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN: 'app.github.dev',
};
const NONE = { CODESPACES: '', CODESPACE_NAME: '', GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN: '' };
const forwarded = (port: number): string =>
  `octocat-literate-space-parakeet-mld5-${port}.app.github.dev`;

const config = async (portal: Portal, host: string): Promise<Record<string, unknown>> => {
  const page = await raw(portal.port, { Host: host });
  assert.equal(page.status, 200);
  const json = /<script id="config" type="application\/json">\s*(.*?)\s*<\/script>/s.exec(
    page.body,
  );
  return JSON.parse(json?.[1] ?? 'null') as Record<string, unknown>;
};

describe('the portal in a GitHub Codespace', () => {
  let portal: Portal;
  before(async () => {
    portal = await startPortal([], CODESPACE);
  });
  after(async () => {
    await portal.close();
  });

  it('answers its forwarded Host, with no Origin, its own, or the localhost one the codespace writes', async () => {
    const host = forwarded(portal.port);
    assert.equal((await raw(portal.port, { Host: host })).status, 200);
    assert.equal((await raw(portal.port, { Host: host, Origin: `https://${host}` })).status, 200);
    const terminal = await raw(
      portal.port,
      { Host: host, Origin: `http://localhost:${portal.port}`, ...UPGRADE },
      '/terminals/9',
    );
    assert.equal(terminal.status, 101);
  });

  it('still refuses a foreign Host or Origin with 403, on plain requests and WebSocket upgrades', async () => {
    const host = forwarded(portal.port);
    const refused: Array<Record<string, string>> = [
      { Host: `someone-else-${portal.port}.app.github.dev` },
      { Host: forwarded(portal.port + 1) },
      { Host: `octocat-literate-space-parakeet-mld5-${portal.port}.evil.example` },
      { Host: host, Origin: 'https://evil.example' },
      { Host: host, Origin: `http://localhost:${portal.port + 1}` },
      { Host: host, Origin: `http://127.0.0.1:${portal.port}` },
      { Host: host, Origin: `https://${forwarded(portal.port + 1)}` },
      { Host: `localhost:${portal.port}`, Origin: `https://${host}` },
    ];
    for (const headers of refused) {
      assert.equal((await raw(portal.port, headers)).status, 403, JSON.stringify(headers));
      assert.equal(
        (await raw(portal.port, { ...headers, ...UPGRADE }, '/terminals/1')).status,
        403,
        JSON.stringify(headers),
      );
    }
    assert.equal((await raw(portal.port, { Host: `localhost:${portal.port}` })).status, 200);
  });

  it("gives the Grafana tab and the pages' dashboard actions Grafana's forwarded URL", async () => {
    const settings = await config(portal, forwarded(portal.port));
    const grafana = `https://${forwarded(3000)}`;
    assert.equal(settings['grafanaUrl'], grafana);
    assert.equal(settings['codespace'], true);
    const page = (await (await fetch(`${portal.url}/api/pages/06-response-completion`)).json()) as {
      html: string;
    };
    assert.ok(page.html.includes(`${grafana}/d/raw-requests?var-variant=hello-world-v3-1`));
  });
});

describe('the portal outside a codespace', () => {
  it('changes nothing: a forwarded Host is refused and Grafana stays at localhost', async () => {
    const portal = await startPortal([], NONE);
    try {
      assert.equal((await raw(portal.port, { Host: forwarded(portal.port) })).status, 403);
      const settings = await config(portal, `localhost:${portal.port}`);
      assert.equal(settings['grafanaUrl'], 'http://localhost:3000');
      assert.equal(settings['codespace'], false);
    } finally {
      await portal.close();
    }
  });

  it('says which variable is missing when CODESPACES=true comes without the rest, and changes nothing', async () => {
    const portal = await startPortal([], { ...NONE, CODESPACES: 'true' });
    try {
      assert.match(portal.output(), /CODESPACES=true but CODESPACE_NAME is not set/);
      assert.equal((await raw(portal.port, { Host: forwarded(portal.port) })).status, 403);
    } finally {
      await portal.close();
    }
  });

  it('refuses to start on a codespace name that is no host name label, naming the variable', async () => {
    await assert.rejects(
      startPortal([], { ...CODESPACE, CODESPACE_NAME: 'evil.example/x' }),
      /CODESPACE_NAME is not a codespace name/,
    );
  });
});

describe('the forwarded URL of a codespace', () => {
  const codespace = { name: 'space', domain: 'app.github.dev' };

  it('maps a localhost URL to its port forwarded over HTTPS, and leaves any other as it is', () => {
    assert.equal(
      forwardedUrl(codespace, 'http://localhost:3000'),
      'https://space-3000.app.github.dev',
    );
    assert.equal(
      forwardedUrl(codespace, 'http://127.0.0.1:3000/d/x?a=1'),
      'https://space-3000.app.github.dev/d/x?a=1',
    );
    assert.equal(forwardedUrl(codespace, 'http://localhost/'), 'https://space-80.app.github.dev/');
    for (const url of ['/grafana', 'http://grafana:3000', 'https://localhost:3000'])
      assert.equal(forwardedUrl(codespace, url), url);
  });

  it('is derived only when CODESPACES is "true"', () => {
    const quiet = (): void => undefined;
    assert.equal(codespaceFromEnv({ ...CODESPACE, CODESPACES: '1' }, quiet), undefined);
    assert.deepEqual(codespaceFromEnv({ ...CODESPACE, CODESPACE_NAME: 'Space-1' }, quiet), {
      name: 'space-1',
      domain: 'app.github.dev',
    });
    assert.throws(
      () =>
        codespaceFromEnv({ ...CODESPACE, GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN: 'x/y' }, quiet),
      /GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN is not a domain/,
    );
  });
});
