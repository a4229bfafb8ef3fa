// npm run workshop -- serve [--port 8080] [--host 127.0.0.1] [--allowed-host NAME]...
// GitHub Codespaces (CODESPACES, CODESPACE_NAME, GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN):
// its forwarded name is answered too, and a localhost Grafana URL becomes the forwarded one.
// npm run workshop -- check
// The npm script runs node with `exec`: without it npm's SIGTERM reaches only the `sh -c`
// npm runs scripts in, which dies and leaves this process and its shells running.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkWorkshop } from './check.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const USAGE =
  'use: npm run workshop -- serve [--port 8080] [--host 127.0.0.1] [--allowed-host NAME] ' +
  '[--grafana-url URL|/PATH] [--grafana-upstream URL] [--service-urls published|direct] | ' +
  'npm run workshop -- check';

function fail(message: string, code = 2): never {
  process.stderr.write(`workshop: ${message}\n`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: 'string', default: process.env['WORKSHOP_PORT'] ?? '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      'allowed-host': { type: 'string', multiple: true, default: [] },
      'grafana-url': {
        type: 'string',
        default: process.env['GRAFANA_URL'] ?? 'http://localhost:3000',
      },
      'grafana-upstream': { type: 'string', default: process.env['GRAFANA_UPSTREAM'] },
      'service-urls': { type: 'string' },
      root: { type: 'string', default: ROOT },
    },
  });
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`);
}
const { values, positionals } = parsed;

if (positionals[0] === 'check' && positionals.length === 1) {
  const problems = checkWorkshop(values.root);
  for (const p of problems)
    process.stderr.write(
      `${p.page === 'workshop' ? 'workshop' : `workshop/${p.page}.md:${p.line}`}: ${p.message}\n`,
    );
  process.stdout.write(
    problems.length === 0
      ? 'workshop check: every action matches the repository\n'
      : `workshop check: ${problems.length} problem(s)\n`,
  );
  process.exit(problems.length === 0 ? 0 : 1);
}
if (positionals[0] !== 'serve' || positionals.length !== 1) fail(USAGE);

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail(`--port (or WORKSHOP_PORT) must be a port number, not "${values.port}"`);
// In the workshop service the services' names resolve; from a checkout they do not, and
// the commands are sent to the ports docker-compose.yml publishes instead.
const serviceUrls = values['service-urls'] ?? 'published';
if (serviceUrls !== 'direct' && serviceUrls !== 'published')
  fail(`--service-urls is "direct" or "published", not "${serviceUrls}"`);
let grafanaUrl = values['grafana-url'].replace(/\/$/, '');
// A path (/grafana) is Grafana served by this portal from --grafana-upstream (grafana-proxy.ts).
const grafanaPath = /^\/[a-z0-9-]+$/i.test(grafanaUrl) ? grafanaUrl : undefined;
if (grafanaPath === undefined && !URL.canParse(grafanaUrl))
  fail(
    `--grafana-url (or GRAFANA_URL) is neither a URL nor a path such as /grafana: ${grafanaUrl}`,
  );

const { LOCAL_HOSTS, MIN_TOKEN_LENGTH } = await import('./security.js');
const token = process.env['WORKSHOP_TOKEN'];
if (token !== undefined && token !== '' && token.length < MIN_TOKEN_LENGTH)
  fail(
    `WORKSHOP_TOKEN is ${token.length} characters: use ${MIN_TOKEN_LENGTH} or more ` +
      '(e.g. openssl rand -hex 16), or leave it empty for no token',
  );
const { codespaceFromEnv, forwardedUrl } = await import('./codespaces.js');
let codespace;
try {
  codespace = codespaceFromEnv(process.env, (message) =>
    process.stderr.write(`workshop: ${message}\n`),
  );
} catch (err) {
  fail((err as Error).message);
}
// In a codespace, Grafana on this machine's localhost is what the codespace forwards.
if (codespace !== undefined) grafanaUrl = forwardedUrl(codespace, grafanaUrl);
const { createPortal } = await import('./server.js');
const { createTerminals, loadPty } = await import('./terminals.js');
const { publishedPorts, rewriteServiceUrls } = await import('./services.js');

let spawn;
try {
  spawn = await loadPty();
} catch (err) {
  fail((err as Error).message, 1);
}
const allowed = [
  ...values['allowed-host'],
  ...(process.env['WORKSHOP_ALLOWED_HOSTS'] ?? '').split(/[\s,]+/),
].filter((h) => h !== '');
const inStack = serviceUrls === 'direct';
const rewrite = inStack
  ? (command: string) => command
  : rewriteServiceUrls(publishedPorts(values.root, process.env));
// The browser opens Grafana at --grafana-url; the portal asks whether it answers at the
// address it reaches it on itself: the grafana service by name in the stack, its
// published port from a checkout.
const grafanaUpstream = (values['grafana-upstream'] ?? rewrite('http://grafana:3000')).replace(
  /\/$/,
  '',
);
if (!URL.canParse(grafanaUpstream))
  fail(`--grafana-upstream (or GRAFANA_UPSTREAM) is not a URL: ${grafanaUpstream}`);
if (grafanaPath !== undefined && !/^https?:\/\/[^/]+$/.test(grafanaUpstream))
  fail(
    `--grafana-url ${grafanaPath} is served from --grafana-upstream (or GRAFANA_UPSTREAM), ` +
      `which must be an http URL with no path, such as http://grafana:3000: ${grafanaUpstream}`,
  );
const portal = await createPortal({
  root: values.root,
  guard: {
    allowedHosts: new Set([...LOCAL_HOSTS, ...allowed.map((h) => h.toLowerCase())]),
    token: token === undefined || token === '' ? undefined : token,
    codespace,
  },
  grafanaUrl,
  grafanaUpstream,
  grafanaProxy:
    grafanaPath === undefined ? undefined : { path: grafanaPath, upstream: grafanaUpstream },
  codespace: codespace !== undefined,
  rewriteCommand: rewrite,
  terminals: createTerminals(spawn, {
    cwd: values.root,
    shell: process.env['WORKSHOP_SHELL'] ?? '/bin/bash',
    env: process.env,
  }),
  where: inStack
    ? 'Terminals are shells in the workshop container.'
    : 'Terminals are shells on this machine (the checkout); service URLs go to their published ports.',
});
try {
  const address = await portal.listen({ port, host: values.host });
  process.stdout.write(`workshop: the portal is at ${address.replace('0.0.0.0', '127.0.0.1')}/\n`);
} catch (err) {
  fail(`cannot listen on ${values.host}:${port}: ${(err as Error).message}`, 1);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    setTimeout(() => process.exit(0), 3000).unref();
    void portal.close().then(() => process.exit(0));
  });
}
