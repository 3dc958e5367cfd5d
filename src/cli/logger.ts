// The CLI's logger: what goes wrong inside the engine (a run walker that throws, a follow-up that
// fails) is printed to stderr as one readable line, and counted, so the command exits non-zero
// instead of printing a run that stopped for a reason nobody saw. LOG_LEVEL=info shows more.

import pino from 'pino';
import type { Logger } from '../log.js';
import type { Io } from './io.js';

export interface CliLogger {
  logger: Logger;
  /** How many errors were logged since the command started. */
  errors: () => number;
}

export function createCliLogger(io: Io, level = 'warn'): CliLogger {
  let errors = 0;
  const destination = {
    write(line: string) {
      let entry: { level?: number; msg?: string; err?: { message?: string } };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        io.err(`lifeboat: ${line.trim()}`);
        return;
      }
      if ((entry.level ?? 0) >= 50) errors++;
      const reason = entry.err?.message ? `: ${entry.err.message}` : '';
      io.err(`lifeboat: ${(entry.level ?? 0) >= 50 ? 'error: ' : ''}${entry.msg ?? ''}${reason}`);
    },
  };
  return { logger: pino({ level }, destination), errors: () => errors };
}
