// The images a session uses, each built by .github/workflows/educates.yaml for amd64 and
// arm64 and published on a tag as $(image_repository)/lab-node-metrics-<name>:<tag>.
// Educates' compose has no `build:` (it would race the download of the workshop files),
// so every one is prebuilt; a test holds this list, the workflow's matrix and the
// Workshop resource to the same names.
export interface ImageBuild {
  dockerfile: string;
  context: string;
}

export const IMAGE_PREFIX = 'lab-node-metrics-';

export const IMAGES: Record<string, ImageBuild> = {
  app: { dockerfile: 'Dockerfile', context: '.' },
  grafana: { dockerfile: 'grafana/Dockerfile', context: 'grafana' },
  prometheus: { dockerfile: 'prometheus/Dockerfile', context: 'prometheus' },
  'process-exporter': {
    dockerfile: 'prometheus/process-exporter.Dockerfile',
    context: 'prometheus',
  },
  loadgen: { dockerfile: 'loadgen/Dockerfile', context: '.' },
  session: { dockerfile: 'educates/session.Dockerfile', context: '.' },
};

// The files image is no container image: Educates' CLI packs the repository's files with
// imgpkg (the workflow's publish step), as spec.publish says.
export const FILES_IMAGE = `${IMAGE_PREFIX}files`;

// As Educates' publish step rewrites them: the registry and the release tag.
export const published = (name: string): string =>
  `$(image_repository)/${IMAGE_PREFIX}${name}:$(workshop_version)`;
