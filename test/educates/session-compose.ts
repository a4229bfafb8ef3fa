// node --import tsx test/educates/session-compose.ts OUT.yaml CGROUP_PARENT
// For npm run test:compose: the compose services of an Educates session, as
// resources/workshop.yaml gives them, made runnable on this machine's engine. Educates
// would substitute its session variables and pull the published images; here the images
// are built locally under a local name, and every container is put under one cgroup whose
// limit is the resource's docker memory, as the session's dind sidecar is. Prints, for the
// script: `service NAME IMAGE`, `image NAME DOCKERFILE CONTEXT TAG` for each image to build,
// `memory BYTES`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { IMAGES, IMAGE_PREFIX } from '../../educates/images.js';
import { ROOT } from '../helpers/servers.js';

const REGISTRY = 'lab-node-metrics-educates.test';
const VERSION = 'test';
// What Educates would put in for a session here (docs: "A note about use of data variables").
const VARIABLES: Record<string, string> = {
  image_repository: REGISTRY,
  workshop_version: VERSION,
  ingress_protocol: 'http',
  session_name: 'test',
  ingress_domain: '127.0.0.1.nip.io',
  ingress_port_suffix: '',
};

interface Resource {
  spec: {
    session: {
      env: Array<{ name: string; value: string }>;
      applications: {
        docker: {
          memory: string;
          compose: { services: Record<string, Record<string, unknown>>; volumes: object };
        };
      };
    };
  };
}

const UNITS: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
export function quantityBytes(quantity: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (m === null) throw new Error(`not a quantity in binary units: ${quantity}`);
  return Number(m[1]) * (UNITS[m[2] ?? ''] ?? 1);
}

export function substitute(text: string): string {
  return text.replace(/\$\((\w+)\)/g, (all, name: string) => VARIABLES[name] ?? all);
}

export function readResource(): Resource {
  const text = readFileSync(join(ROOT, 'resources', 'workshop.yaml'), 'utf8');
  return parse(substitute(text)) as Resource;
}

if (process.argv[1]?.endsWith('session-compose.ts') === true) {
  const [out, cgroupParent] = process.argv.slice(2);
  if (out === undefined || cgroupParent === undefined) {
    process.stderr.write('use: session-compose.ts OUT.yaml CGROUP_PARENT\n');
    process.exit(2);
  }
  const { docker } = readResource().spec.session.applications;
  const services = docker.compose.services;
  const used = new Set<string>();
  for (const [name, service] of Object.entries(services)) {
    service['cgroup_parent'] = cgroupParent;
    used.add(String(service['image']));
    process.stdout.write(`service ${name} ${String(service['image'])}\n`);
  }
  writeFileSync(out, stringify({ services, volumes: docker.compose.volumes }));
  for (const image of used) {
    const name = image.slice(`${REGISTRY}/${IMAGE_PREFIX}`.length).replace(/:.*$/, '');
    const build = IMAGES[name];
    if (build === undefined) throw new Error(`${image} is no image of educates/images.ts`);
    process.stdout.write(`image ${name} ${build.dockerfile} ${build.context} ${image}\n`);
  }
  process.stdout.write(`memory ${quantityBytes(docker.memory)}\n`);
}
