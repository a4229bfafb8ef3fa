import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { educatesCompose, readEnvFile } from '../../educates/compose.js';
import { IMAGES, IMAGE_PREFIX } from '../../educates/images.js';
import { workshopResource } from '../../educates/resource.js';
import { ROOT } from '../helpers/servers.js';

interface Workflow {
  jobs: { images: { strategy: { matrix: { include: Array<Record<string, string>> } } } };
}
const workflow = parse(
  readFileSync(join(ROOT, '.github', 'workflows', 'educates.yaml'), 'utf8'),
) as Workflow;
const dockerfile = (name: string): string =>
  readFileSync(join(ROOT, IMAGES[name]?.dockerfile ?? ''), 'utf8');

// Every image a session pulls: its own, and each compose service's.
function sessionImages(): string[] {
  const spec = (workshopResource(ROOT) as { spec: Record<string, Record<string, unknown>> }).spec;
  const session = spec['session'] as {
    applications: { docker: { compose: { services: Record<string, { image: string }> } } };
  };
  return [
    String(spec['workshop']?.['image']),
    ...Object.values(session.applications.docker.compose.services).map((s) => s.image),
  ];
}

describe('the images of a session and the workflow that builds them', () => {
  it('builds in .github/workflows/educates.yaml each image of educates/images.ts, from the same Dockerfile', () => {
    assert.deepEqual(
      workflow.jobs.images.strategy.matrix.include,
      Object.entries(IMAGES).map(([image, build]) => ({ image, ...build })),
    );
  });

  it('uses only images the workflow builds, each tagged with the release', () => {
    const images = sessionImages();
    assert.ok(images.length > 15, images.join(' '));
    const built = new Set(workflow.jobs.images.strategy.matrix.include.map((m) => m['image']));
    for (const image of new Set(images)) {
      const m = /^\$\(image_repository\)\/([a-z-]+):\$\(workshop_version\)$/.exec(image);
      assert.ok(m !== null, `${image} is not one of ours, tagged with the release`);
      const name = (m[1] ?? '').slice(IMAGE_PREFIX.length);
      assert.ok(built.has(name), `${image} is not built by the workflow`);
    }
  });

  it('builds every image FROM a pin of .env with a version, or FROM an earlier stage', () => {
    const env = readEnvFile(join(ROOT, '.env'));
    for (const name of Object.keys(IMAGES)) {
      const stages: string[] = [];
      for (const [, base = '', stage] of dockerfile(name).matchAll(
        /^FROM (\S+)(?: AS (\S+))?$/gm,
      )) {
        const pin = /^\$\{(\w+)\}$/.exec(base)?.[1];
        if (pin === undefined) assert.ok(stages.includes(base), `${name}: FROM ${base} is no pin`);
        else {
          assert.match(
            env.get(pin) ?? '',
            /:[^:/]*\d[^:/]*$/,
            `${name}: ${pin} has no version in .env`,
          );
          assert.doesNotMatch(env.get(pin) ?? '', /:latest$/, pin);
        }
        if (stage !== undefined) stages.push(stage);
      }
      assert.ok(stages.length > 0 || /^FROM /m.test(dockerfile(name)), name);
    }
  });

  it('copies into each image the files docker-compose.yml mounts into its service, at the same path', () => {
    for (const { image, source, target } of educatesCompose(ROOT).baked) {
      const build = IMAGES[image];
      assert.ok(build !== undefined, image);
      const from = relative(build.context, source);
      assert.match(
        dockerfile(image),
        new RegExp(`^COPY ${from} ${target}$`, 'm'),
        `${image}: ${source} -> ${target}`,
      );
    }
  });
});
