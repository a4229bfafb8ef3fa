// The launcher, as `mod_wsgi-express start-server` is for the Python workshop:
//   npm run start-server -- hello-world-v3/app-1 --port 8000
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { aggregateFromPrimary, runPrimary } from './cluster.js';
import { checkLogLevel, logger } from './logger.js';
import { buildFrameworkServer, buildServer } from './server.js';
import { WORKER_ENV } from './registry.js';
import { SettingError } from './setting-error.js';
import { APPS_DIR, VariantError, listVariants, loadVariant } from './variants.js';

// Under Docker's default 10 s stop timeout, with a second to spare for the exit itself.
const DRAIN_MS = 9000;

// One worker per core is the usual ceiling; 64 only stops a typo from forking thousands.
const MAX_WORKERS = 64;

const USAGE = `usage: npm run start-server -- VARIANT [--port 8000] [--host 127.0.0.1] [--workers 0] [--apps-dir DIR]
  VARIANT     one of the apps, e.g. hello-world-v1 or hello-world-v3/app-1
  --port      TCP port to listen on, 0-65535 (0 picks a free one); default 8000
  --host      address to listen on; default 127.0.0.1 (0.0.0.0 inside a container)
  --workers   worker processes sharing the port (node:cluster), 1-${MAX_WORKERS}; default 0: serve in this process
  --apps-dir  where the variants are found; default the repository's apps/`;

function usageError(message: string, appsDir = APPS_DIR): never {
  let variants = '';
  try {
    variants = `\nvariants: ${[...listVariants(appsDir).keys()].join(', ')}`;
  } catch {
    // An unreadable --apps-dir is reported by the message itself.
  }
  process.stderr.write(`start-server: ${message}\n${USAGE}${variants}\n`);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        port: { type: 'string', default: '8000' },
        host: { type: 'string', default: '127.0.0.1' },
        workers: { type: 'string', default: '0' },
        'apps-dir': { type: 'string', default: APPS_DIR },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    return usageError((err as Error).message);
  }
}

// A setting that library code found bad: its message names it.
function settingError(err: SettingError): never {
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}

const { values, positionals } = parse();
const appsDir = values['apps-dir'];
if (values.help) {
  let variants: string[];
  try {
    variants = [...listVariants(appsDir).keys()];
  } catch (err) {
    usageError(`--apps-dir ${appsDir} cannot be read: ${(err as Error).message}`, appsDir);
  }
  process.stdout.write(`${USAGE}\nvariants: ${variants.join(', ')}\n`);
  process.exit(0);
}
try {
  checkLogLevel();
} catch (err) {
  if (err instanceof SettingError) settingError(err);
  throw err;
}
if (positionals.length !== 1) usageError('give exactly one variant', appsDir);
const variant = positionals[0] ?? '';
const port = Number(values.port);
if (!/^\d+$/.test(values.port) || port > 65535) {
  usageError(`--port must be a whole number from 0 to 65535, not "${values.port}"`, appsDir);
}

const workers = Number(values.workers);
if (!/^\d+$/.test(values.workers) || workers > MAX_WORKERS) {
  usageError(
    `--workers must be a whole number from 0 to ${MAX_WORKERS}, not "${values.workers}"`,
    appsDir,
  );
}

if (workers > 0 && cluster.isPrimary) {
  // The primary never loads the app: a bad variant is still reported here, before any fork.
  let known = false;
  try {
    known = listVariants(appsDir).has(variant);
  } catch (err) {
    usageError((err as Error).message, appsDir);
  }
  if (!known) usageError(`unknown variant "${variant}"`, appsDir);
  runPrimary({ variant, workers, host: values.host, drainMs: DRAIN_MS });
} else {
  await serve();
}

async function serve(): Promise<void> {
  let loaded;
  try {
    loaded = await loadVariant(variant, appsDir);
  } catch (err) {
    if (err instanceof VariantError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      usageError((err as Error).message, appsDir);
    }
    if (err instanceof SettingError) settingError(err);
    throw err;
  }

  const options = cluster.isWorker ? { metrics: aggregateFromPrimary() } : {};
  const server =
    'plugin' in loaded
      ? buildFrameworkServer(loaded.plugin, options)
      : buildServer(loaded.application, options);
  try {
    await server.listen({ port, host: values.host });
  } catch (err) {
    logger.fatal({ err }, `cannot listen on ${values.host}:${port}`);
    process.exit(1);
  }

  const address = server.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const shownHost = values.host.includes(':') ? `[${values.host}]` : values.host;
  if (cluster.isWorker) {
    // The primary announces the address once every worker listens.
    logger.info(
      { variant, worker: process.env[WORKER_ENV] },
      `worker ${process.env[WORKER_ENV] ?? ''} listening`,
    );
  } else {
    logger.info(
      {
        variant,
        host: values.host,
        port: bound,
        url: `http://${shownHost}:${bound}/`,
        metrics: `http://${shownHost}:${bound}/metrics`,
        node: process.version,
      },
      `serving ${variant} at http://${shownHost}:${bound}/`,
    );
  }

  let stopping = false;
  async function stop(signal: NodeJS.Signals): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: no new connections; letting requests in flight finish');
    const force = setTimeout(() => {
      logger.error(`requests still in flight after ${DRAIN_MS / 1000} s; cutting them off`);
      server.server.closeAllConnections();
      process.exit(1);
    }, DRAIN_MS);
    force.unref();
    // A keep-alive connection whose request finishes after close() began would otherwise stay
    // open until its 5 s idle timeout: close each one as soon as it goes idle.
    const idle = setInterval(() => {
      server.server.closeIdleConnections();
    }, 50);
    await server.close();
    clearTimeout(force);
    clearInterval(idle);
    logger.info('stopped');
    process.exit(0);
  }
  // A worker can get the signal twice: from the terminal's Ctrl-C or a process-group kill, and
  // again from the primary. It drains once and ignores the repeat; alone, a second signal kills.
  const listen = cluster.isWorker ? process.on.bind(process) : process.once.bind(process);
  listen('SIGTERM', (signal) => void stop(signal));
  listen('SIGINT', (signal) => void stop(signal));
}
