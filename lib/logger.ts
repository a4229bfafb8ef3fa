import { pino } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const level = process.env['LOG_LEVEL'] ?? 'info';

if (!LEVELS.includes(level)) {
  process.stderr.write(`LOG_LEVEL=${level} is not a log level; use one of: ${LEVELS.join(', ')}\n`);
  process.exit(2);
}

// One logger for the launcher and fastify; request logging stays off (see lib/server.ts).
export const logger = pino({ level, base: { pid: process.pid } });
