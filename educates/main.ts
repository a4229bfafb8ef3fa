// npm run educates            writes the Educates form: resources/*.yaml, workshop/content/
// npm run educates -- --check  fails when a page, the compose file or .env changed since
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { educatesFiles, staleFiles } from './outputs.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function fail(message: string, code = 1): never {
  process.stderr.write(`educates: ${message}\n`);
  process.exit(code);
}

let values;
try {
  ({ values } = parseArgs({ options: { check: { type: 'boolean', default: false } } }));
} catch (err) {
  fail(`${(err as Error).message}\nuse: npm run educates [-- --check]`, 2);
}

let files;
try {
  files = educatesFiles(ROOT);
} catch (err) {
  fail((err as Error).message);
}
const stale = staleFiles(ROOT, files);
if (values.check) {
  if (stale.length > 0)
    fail(
      `out of date with workshop/*.md, docker-compose.yml or .env: ${stale.join(', ')}; run npm run educates`,
    );
  process.stdout.write(`educates: ${files.size} files in sync with their sources\n`);
  process.exit(0);
}
for (const path of stale) {
  const full = join(ROOT, path);
  if (files.has(path)) {
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, files.get(path) ?? '');
  } else rmSync(full);
}
process.stdout.write(`educates: wrote ${stale.length} of ${files.size} files\n`);
