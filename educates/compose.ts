import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { parse } from 'yaml';
import { IMAGES, IMAGE_PREFIX, published } from './images.js';

type Service = Record<string, unknown>;

export interface EducatesCompose {
  services: Record<string, Service>;
  volumes: Record<string, Record<string, unknown>>;
  // Each bind mount of a repository file that an image of ours bakes in instead, for the
  // test that holds the image's Dockerfile to the compose file.
  baked: Array<{ service: string; image: string; source: string; target: string }>;
}

// Services of docker-compose.yml that a session does without, and why.
export const LEFT_OUT: Record<string, string> = {
  workshop: 'the Educates session is the workstation: its terminals, editor and examiner',
  loadgen:
    'run on demand with `docker compose run`; a session has no Docker socket, and bombardier is in its terminals',
};

export function readEnvFile(file: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m !== null) env.set(m[1] ?? '', m[2] ?? '');
  }
  return env;
}

// Compose's own interpolation, for the forms the file uses: ${NAME} and ${NAME:-default}.
function interpolate(value: string, env: Map<string, string>): string {
  return value.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => {
    const v = env.get(name) ?? fallback;
    if (v === undefined) throw new Error(`docker-compose.yml uses \${${name}}, which .env lacks`);
    return v;
  });
}

function resolve(value: unknown, env: Map<string, string>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => resolve(v, env));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, env)]));
  return value;
}

// The compose services of a session, from docker-compose.yml and the pins in .env: the
// same services less LEFT_OUT, with no build (an image of ours, prebuilt), and no bind
// mount of the repository (an image of ours bakes those files in), every ${...} resolved.
export function educatesCompose(root: string): EducatesCompose {
  const env = readEnvFile(join(root, '.env'));
  const file = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as { services?: Record<string, Service>; volumes?: Record<string, unknown> };
  const services: Record<string, Service> = {};
  const baked: EducatesCompose['baked'] = [];
  for (const [name, raw] of Object.entries(file.services ?? {})) {
    if (name in LEFT_OUT) continue;
    const service = resolve(raw, env) as Service;
    const { build, volumes, image, ...rest } = service;
    const own =
      typeof image === 'string' ? /^lab-node-metrics-([a-z0-9-]+):local$/.exec(image) : null;
    const binds: string[] = [];
    const kept: unknown[] = [];
    for (const v of Array.isArray(volumes) ? volumes : []) {
      if (typeof v === 'string' && v.startsWith('./')) binds.push(v);
      else kept.push(v);
    }
    let imageName: string;
    if (own !== null) imageName = own[1] ?? '';
    else if (binds.length > 0) imageName = name;
    else if (build === undefined && typeof image === 'string') {
      services[name] = { image, ...rest, ...(kept.length > 0 ? { volumes: kept } : {}) };
      continue;
    } else throw new Error(`the ${name} service is built here and has no image of ours to use`);
    if (!(imageName in IMAGES))
      throw new Error(
        `the ${name} service needs the image ${IMAGE_PREFIX}${imageName}, which educates/images.ts does not build`,
      );
    for (const bind of binds) {
      const [source = '', target = ''] = bind.split(':');
      baked.push({ service: name, image: imageName, source: normalize(source), target });
    }
    services[name] = {
      image: published(imageName),
      ...rest,
      ...(kept.length > 0 ? { volumes: kept } : {}),
    };
  }
  const volumes = Object.fromEntries(
    Object.entries(file.volumes ?? {}).map(([k, v]) => [k, (v ?? {}) as Record<string, unknown>]),
  );
  return { services, volumes, baked };
}
