// The CLI's logger: what goes wrong inside the engine (a run walker that throws, a follow-up that
// fails) is printed to stderr as one readable line, and counted, so the command exits non-zero
// instead of printing a run that stopped for a reason nobody saw. LOG_LEVEL=info shows more.
// A few lines written by hand: the break-glass path does not load pino to print them.

import type { LogFn, Logger } from '../log.js';
import type { Io } from './io.js';

export interface CliLogger {
  logger: Logger;
  /** How many errors were logged since the command started. */
  errors: () => number;
}

/** pino's level numbers, which LOG_LEVEL names. */
const LEVELS: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

export function createCliLogger(io: Io, level = 'warn'): CliLogger {
  let errors = 0;
  const threshold = LEVELS[level] ?? LEVELS.warn!;
  const at =
    (value: number): LogFn =>
    (first: object | string, message?: string) => {
      // Counted even when LOG_LEVEL hides it: the exit code still says something failed.
      if (value >= 50) errors++;
      if (value < threshold) return;
      const fields: { err?: { message?: string } } =
        typeof first === 'string' ? {} : first instanceof Error ? { err: first } : first;
      const text = typeof first === 'string' ? first : (message ?? '');
      const reason = fields.err?.message ? `: ${fields.err.message}` : '';
      io.err(`lifeboat: ${value >= 50 ? 'error: ' : ''}${text}${reason}`);
    };
  return {
    logger: { error: at(50), warn: at(40), info: at(30), debug: at(20) },
    errors: () => errors,
  };
}
