// In a GitHub Codespace the learner's browser reaches a port P that listens in the dev
// container at https://<CODESPACE_NAME>-<P>.<GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN>, private
// to them (GitHub's "Forwarding ports in your codespace" and "Default environment variables
// for your codespace": CODESPACES is "true", the domain e.g. app.github.dev). Its proxy keeps
// that name in Host and, when the browser's Origin is that URL's own, rewrites it to
// http://localhost:<P> (mastodon/mastodon#26400; measured with curl in symfony/demo#1542,
// 2024-12-20: any other Origin passes unchanged). The portal accepts exactly that pair, never
// a foreign Host or Origin.

export interface Codespace {
  name: string;
  domain: string;
}

// A codespace name is one DNS label before "-<port>"; the domain is a host name.
const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const DOMAIN =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

// undefined outside a codespace. Inside one, a missing variable leaves the portal as it is
// elsewhere (localhost only), said in `warn`; a malformed one is a start-up error.
export function codespaceFromEnv(
  env: NodeJS.ProcessEnv,
  warn: (message: string) => void,
): Codespace | undefined {
  if (env['CODESPACES'] !== 'true') return undefined;
  const name = env['CODESPACE_NAME'] ?? '';
  const domain = env['GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN'] ?? '';
  for (const [setting, value] of [
    ['CODESPACE_NAME', name],
    ['GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN', domain],
  ] as const) {
    if (value === '') {
      warn(`CODESPACES=true but ${setting} is not set: the portal answers localhost only`);
      return undefined;
    }
  }
  if (!NAME.test(name)) throw new Error(`CODESPACE_NAME is not a codespace name: "${name}"`);
  if (!DOMAIN.test(domain))
    throw new Error(`GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN is not a domain: "${domain}"`);
  return { name: name.toLowerCase(), domain: domain.toLowerCase() };
}

export function forwardedHost(codespace: Codespace, port: number): string {
  return `${codespace.name}-${port}.${codespace.domain}`;
}

// http://localhost:3000/d/x -> https://<name>-3000.<domain>/d/x: what the learner's browser
// opens in the codespace. Any other URL (another host, or a path on the portal's own origin)
// is returned as it is.
export function forwardedUrl(codespace: Codespace, url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' || !['localhost', '127.0.0.1'].includes(parsed.hostname))
    return url;
  const port = parsed.port === '' ? 80 : Number(parsed.port);
  // URL() writes "/" for an empty path; a base URL such as GRAFANA_URL is kept without it.
  const path = parsed.pathname === '/' && !url.endsWith('/') ? '' : parsed.pathname;
  return `https://${forwardedHost(codespace, port)}${path}${parsed.search}${parsed.hash}`;
}

// The request reached the portal on `localPort` (the port the codespace forwards) through the
// codespace's proxy: Host is the forwarded name, Origin absent, the forwarded URL's own, or
// what the proxy rewrites that to.
export function forwardedRequestAllowed(
  codespace: Codespace | undefined,
  hostname: string | undefined,
  origin: string | undefined,
  localPort: number | undefined,
): boolean {
  if (codespace === undefined || localPort === undefined) return false;
  const host = forwardedHost(codespace, localPort);
  if (hostname !== host) return false;
  return (
    origin === undefined ||
    origin === `https://${host}` ||
    origin === `http://localhost:${localPort}`
  );
}
