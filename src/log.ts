// Structured logs (pino). Every line of a run carries its run id: use `logger.child({ run })`.

import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; destination?: number } = {}): Logger {
  return pino({ level: options.level ?? 'info' }, pino.destination(options.destination ?? 2));
}
