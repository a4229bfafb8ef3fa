import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// From a checkout, the compose services' names do not resolve: each one is reached at
// the port docker-compose.yml publishes it on (PORT_... from the environment, else the
// file's default). Returns "service:container-port" -> "127.0.0.1:host-port".
export function publishedPorts(root: string, env: NodeJS.ProcessEnv): Map<string, string> {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
    services?: Record<string, { ports?: unknown[] }>;
  };
  const map = new Map<string, string>();
  for (const [service, spec] of Object.entries(compose.services ?? {})) {
    for (const entry of spec.ports ?? []) {
      if (typeof entry !== 'string') continue;
      const expanded = entry.replace(
        /\$\{(\w+):-([^}]*)\}/g,
        (_, name: string, fallback: string) => env[name] ?? fallback,
      );
      const m = /^(?:([\d.]+):)?(\d+):(\d+)$/.exec(expanded);
      if (m !== null) map.set(`${service}:${m[3] ?? ''}`, `${m[1] ?? '127.0.0.1'}:${m[2] ?? ''}`);
    }
  }
  return map;
}

export function rewriteServiceUrls(map: Map<string, string>): (command: string) => string {
  return (command) =>
    command.replace(/(https?:\/\/)([a-z0-9-]+:\d+)/g, (all, scheme: string, target: string) => {
      const published = map.get(target);
      return published === undefined ? all : `${scheme}${published}`;
    });
}
