import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Page, listPages, parsePage } from '../portal/pages.js';
import { publishedPorts } from '../portal/services.js';
import { TERMINAL_SESSIONS } from './actions.js';
import { educatesCompose } from './compose.js';
import { FILES_IMAGE, published } from './images.js';

export const WORKSHOP_NAME = 'lab-node-metrics';

// Educates 3.7.1, whose Workshop CRD educates/workshop.schema.json is written from.
export const EDUCATES_VERSION = '3.7.1';

// The dind sidecar's limit, for every compose service of a session and dockerd itself
// (Educates' default, 768Mi, is too little). npm run test:compose walks the pages with the
// services under this limit: their peak was 514 MiB without Grafana, which cannot run
// there; with a guessed 200 MiB for Grafana and 150 for dockerd, about 900 MiB, which this
// exceeds by two-thirds, for a learner's extra loads (README, "Run it for a class").
export const DOCKER_MEMORY = '1536Mi';

// What a session needs of the repository: the code the pages open and run, the package
// files the launcher runs from, and workshop/ (content/ for the renderer, examiner/tests/
// for the checks). node_modules comes with the session image.
export const INCLUDE_PATHS = [
  '/workshop/**',
  '/apps/**',
  '/lib/**',
  '/package.json',
  '/package-lock.json',
  '/tsconfig.json',
  '/tsconfig.build.json',
  '/docker-compose.yml',
  '/prometheus/**',
  '/grafana/**',
];

const GRAFANA_INGRESS =
  '$(ingress_protocol)://grafana-$(session_name).$(ingress_domain)$(ingress_port_suffix)';

// The terminals the pages use: 2 fit `split`, 3 need `split/2`.
function terminalLayout(pages: Page[]): string {
  let most = 1;
  for (const page of pages)
    for (const block of page.blocks)
      if (block.type === 'action' && block.action.kind.startsWith('terminal:'))
        most = Math.max(most, Number(block.action.body['session'] ?? 1));
  if (most > TERMINAL_SESSIONS)
    throw new Error(`the pages use terminal ${most}; Educates shows ${TERMINAL_SESSIONS}`);
  return most === 1 ? 'default' : most === 2 ? 'split' : 'split/2';
}

const usesExaminer = (pages: Page[]): boolean =>
  pages.some((p) =>
    p.blocks.some((b) => b.type === 'action' && b.action.kind.startsWith('examiner:')),
  );

export function workshopResource(root: string): Record<string, unknown> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    description: string;
  };
  const pages = listPages(join(root, 'workshop')).map(parsePage);
  const compose = educatesCompose(root);
  const grafana = compose.services['grafana'];
  if (grafana !== undefined) {
    // Links and redirects Grafana makes go to the ingress's address, not localhost:3000.
    const environment = (grafana['environment'] ?? {}) as Record<string, unknown>;
    grafana['environment'] = { ...environment, GF_SERVER_ROOT_URL: `${GRAFANA_INGRESS}/` };
  }
  const prometheus = publishedPorts(root, {}).get('prometheus:9090');
  if (prometheus === undefined) throw new Error('docker-compose.yml publishes no prometheus:9090');
  const files = `$(image_repository)/${FILES_IMAGE}:$(workshop_version)`;
  return {
    apiVersion: 'training.educates.dev/v1beta1',
    kind: 'Workshop',
    metadata: { name: WORKSHOP_NAME },
    spec: {
      title: 'Generating metrics from a Node.js web app',
      description: pkg.description,
      difficulty: 'beginner',
      duration: '90m',
      publish: {
        image: files,
        files: [{ directory: { path: '.' }, includePaths: INCLUDE_PATHS }],
      },
      workshop: {
        image: published('session'),
        files: [{ image: { url: files }, includePaths: INCLUDE_PATHS }],
      },
      session: {
        // The checks ask Prometheus at its published port (workshop/examiner/lib/).
        env: [{ name: 'PROMETHEUS_URL', value: `http://${prometheus}` }],
        // The session needs no Kubernetes: its services run in its own Docker daemon.
        namespaces: { security: { token: { enabled: false } } },
        applications: {
          terminal: { enabled: true, layout: terminalLayout(pages) },
          editor: { enabled: true },
          examiner: { enabled: usesExaminer(pages) },
          docker: {
            enabled: true,
            memory: DOCKER_MEMORY,
            compose: { services: compose.services, volumes: compose.volumes },
          },
        },
        // One process table for the pod: the process exporter (pid: host in the Docker
        // daemon's container) then sees bombardier and the page 03 launcher in the terminals.
        patches: { shareProcessNamespace: true },
        ingresses: [{ name: 'grafana', port: 3000 }],
        dashboards: [{ name: 'Grafana', url: `${GRAFANA_INGRESS}/` }],
      },
    },
  };
}

// A portal for a class: every session made up front, so that no learner waits for a
// session's images to be pulled.
export function trainingPortal(learners: number): Record<string, unknown> {
  return {
    apiVersion: 'training.educates.dev/v1beta1',
    kind: 'TrainingPortal',
    metadata: { name: WORKSHOP_NAME },
    spec: {
      portal: { sessions: { maximum: learners } },
      workshops: [
        {
          name: WORKSHOP_NAME,
          capacity: learners,
          initial: learners,
          reserved: 0,
          expires: '120m',
          orphaned: '15m',
        },
      ],
    },
  };
}
