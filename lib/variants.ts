import { readdirSync } from 'node:fs';
import type { FastifyPluginCallback } from 'fastify';
import type { Handler } from './respond.js';
import { basename, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const APPS_DIR = fileURLToPath(new URL('../apps/', import.meta.url));
// .ts when run from source, .js when run from the compiled image.
const EXT = extname(fileURLToPath(import.meta.url));
const APP_FILE = new RegExp(`^app(-\\d+)?\\${EXT}$`);

export class VariantError extends Error {}

// Variant names as the launcher takes them: `hello-world-v1` for a folder with one app.ts,
// `hello-world-v2/app-1` for each app-N file of a folder.
export function listVariants(appsDir = APPS_DIR): Map<string, string> {
  const variants = new Map<string, string>();
  const folders = readdirSync(appsDir, { withFileTypes: true }).filter((d) => d.isDirectory());
  for (const folder of folders.map((d) => d.name).sort()) {
    const files = readdirSync(join(appsDir, folder))
      .filter((f) => APP_FILE.test(f))
      .sort();
    for (const file of files) {
      const name = file === `app${EXT}` ? folder : `${folder}/${basename(file, EXT)}`;
      variants.set(name, join(appsDir, folder, file));
    }
  }
  return variants;
}

// A variant is a request listener (`application`), the interface every Node framework plugs
// into, or a fastify plugin (`plugin`) for the step that times requests with fastify's hooks.
export type Variant = { application: Handler } | { plugin: FastifyPluginCallback };

export async function loadVariant(name: string, appsDir = APPS_DIR): Promise<Variant> {
  const variants = listVariants(appsDir);
  const file = variants.get(name);
  if (file === undefined) {
    throw new VariantError(
      `unknown variant "${name}"; choose one of: ${[...variants.keys()].join(', ')}`,
    );
  }
  const module = (await import(pathToFileURL(file).href)) as {
    application?: unknown;
    plugin?: unknown;
  };
  if (typeof module.application === 'function')
    return { application: module.application as Handler };
  if (typeof module.plugin === 'function')
    return { plugin: module.plugin as FastifyPluginCallback };
  throw new VariantError(
    `${file} exports neither a request listener named "application" nor a fastify plugin named "plugin"`,
  );
}
