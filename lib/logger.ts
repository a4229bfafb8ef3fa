import { pino } from 'pino';
import { SettingError } from './setting-error.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const level = process.env['LOG_LEVEL'] ?? 'info';

// Thrown by the launcher's first step (see lib/start-server.ts); until then, an unknown level
// logs at info.
export function checkLogLevel(): void {
  if (!LEVELS.includes(level))
    throw new SettingError(
      `LOG_LEVEL=${level} is not a log level; use one of: ${LEVELS.join(', ')}`,
    );
}

// One logger for the launcher and fastify; request logging stays off (see lib/server.ts).
export const logger = pino({
  level: LEVELS.includes(level) ? level : 'info',
  base: { pid: process.pid },
});
