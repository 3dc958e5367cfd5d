// Structured logs (pino). Every line of a run carries its run id: use `logger.child({ run })`.

import pino from 'pino';

/**
 * What lifeboat logs through: pino's logger in the bot, a few lines on stderr in the CLI (which
 * does not load pino for them). `object` carries the fields: `err`, `run`, `service`….
 */
export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
}

export interface LogFn {
  (object: object, message?: string): void;
  (message: string): void;
}

/** The levels LOG_LEVEL may name: pino's own, and silent. */
export const LOG_LEVELS: readonly string[] = [...Object.keys(pino.levels.values), 'silent'];

export function createLogger(options: { level?: string; destination?: number } = {}): Logger {
  return pino({ level: options.level ?? 'info' }, pino.destination(options.destination ?? 2));
}

/**
 * Local mode's logger: everything at `level` into `file` (the terminal shows the console's URL and
 * what the person does, not a JSON line a minute), and errors on stderr too.
 */
export function createFileLogger(file: string, level = 'info'): Logger {
  return pino(
    { level },
    pino.multistream([
      {
        level: level,
        stream: pino.destination({ dest: file, mkdir: true, sync: false }),
      },
      { level: 'error', stream: pino.destination(2) },
    ]),
  );
}
