import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { LEFT_OUT, educatesCompose, readEnvFile } from '../../educates/compose.js';
import { EDUCATES_VERSION, workshopResource } from '../../educates/resource.js';
import { ROOT } from '../helpers/servers.js';

const schema = JSON.parse(
  readFileSync(join(ROOT, 'educates', 'workshop.schema.json'), 'utf8'),
) as object;
const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
const errors = (resource: unknown): string[] =>
  validate(resource)
    ? []
    : (validate.errors ?? []).map(
        (e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
      );

type Resource = {
  spec: {
    session: {
      applications: {
        terminal: { layout: string };
        examiner: { enabled: boolean };
        docker: {
          memory: string;
          compose: { services: Record<string, Record<string, unknown>>; version?: string };
        };
      };
      ingresses: Array<{ name: string; port: number }>;
      dashboards: Array<{ name: string; url: string }>;
    };
  };
};

describe('resources/workshop.yaml, the Workshop resource of the Educates form', () => {
  const resource = workshopResource(ROOT) as Resource;

  it(`validates against the schema of Educates ${EDUCATES_VERSION}'s Workshop CRD, as committed`, () => {
    assert.deepEqual(errors(resource), []);
    const committed = parse(
      readFileSync(join(ROOT, 'resources', 'workshop.yaml'), 'utf8'),
    ) as unknown;
    assert.deepEqual(committed, resource);
  });

  it('refuses a field the CRD does not have, as Kubernetes would prune it', () => {
    const copy = structuredClone(resource);
    // The original workshop's field, which the 3.7 schema no longer has.
    copy.spec.session.applications.docker.compose.version = '3.0';
    assert.match(
      errors(copy).join('\n'),
      /compose must NOT have additional properties {"additionalProperty":"version"}/,
    );
    const typo = structuredClone(resource) as unknown as {
      spec: { session: { applications: { terminal: object } } };
    };
    typo.spec.session.applications.terminal = { enabled: true, layuot: 'split' };
    assert.match(errors(typo).join('\n'), /"additionalProperty":"layuot"/);
    const memory = structuredClone(resource);
    memory.spec.session.applications.docker.memory = '2 GB';
    assert.match(errors(memory).join('\n'), /memory must match pattern/);
  });

  it('pins the Educates version the schema is written for in .env, with the session image', () => {
    const env = readEnvFile(join(ROOT, '.env'));
    assert.equal(env.get('EDUCATES_VERSION'), EDUCATES_VERSION);
    assert.equal(
      env.get('EDUCATES_BASE_IMAGE'),
      `ghcr.io/educates/educates-base-environment:${EDUCATES_VERSION}`,
    );
  });

  it("runs docker-compose.yml's services, less the workstation and the load generator, with nothing to build or mount", () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: object;
    };
    const services = resource.spec.session.applications.docker.compose.services;
    assert.deepEqual(
      Object.keys(services).sort(),
      Object.keys(compose.services)
        .filter((s) => !(s in LEFT_OUT))
        .sort(),
    );
    for (const [name, service] of Object.entries(services)) {
      assert.equal(service['build'], undefined, name);
      for (const volume of (service['volumes'] ?? []) as string[])
        assert.doesNotMatch(volume, /^\.\//, name);
      assert.doesNotMatch(JSON.stringify(service), /\$\{/, `${name} has a \${...} left`);
    }
    const v31 = services['hello-world-v3-1'];
    assert.ok(v31);
    assert.deepEqual(v31['ports'], ['127.0.0.1:8031:8000']);
    assert.deepEqual(v31['command'], [
      'hello-world-v3/app-1',
      '--host',
      '0.0.0.0',
      '--port',
      '8000',
    ]);
    assert.deepEqual(services['prometheus']?.['volumes'], ['prometheus-data:/prometheus']);
  });

  it('shows Grafana in a dashboard tab through an ingress to its port, and gives the pages three terminals', () => {
    const { session } = resource.spec;
    assert.deepEqual(session.ingresses, [{ name: 'grafana', port: 3000 }]);
    assert.deepEqual(session.dashboards, [
      {
        name: 'Grafana',
        url: '$(ingress_protocol)://grafana-$(session_name).$(ingress_domain)$(ingress_port_suffix)/',
      },
    ]);
    const grafana = session.applications.docker.compose.services['grafana'];
    assert.ok(grafana);
    assert.deepEqual(grafana['ports'], ['127.0.0.1:3000:3000']);
    assert.equal(session.applications.terminal.layout, 'split/2');
  });

  it('turns the examiner on exactly when a page has a check', () => {
    const pages = readFileSync(join(ROOT, 'workshop', '06-response-completion.md'), 'utf8');
    const hasChecks = /```examiner:execute-test/.test(pages);
    assert.equal(resource.spec.session.applications.examiner.enabled, hasChecks);
  });

  it('bakes in each file that docker-compose.yml mounts, at the same path', () => {
    const { baked } = educatesCompose(ROOT);
    assert.deepEqual(
      baked.map((b) => `${b.service} ${b.source} ${b.target}`),
      [
        'process-exporter prometheus/process-exporter.yml /config/process-exporter.yml',
        'prometheus prometheus/prometheus.yml /etc/prometheus/prometheus.yml',
        'grafana grafana/provisioning /etc/grafana/provisioning',
        'grafana grafana/dashboards /etc/grafana/dashboards',
      ],
    );
  });
});
