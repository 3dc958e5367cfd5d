// Whether local mode runs from a checkout: its marker, .lifeboat/running.json, names a live process.
// Kept apart from the environment (s3rver, PostgreSQL servers) so that the store commands that
// must refuse while it runs do not load all of local mode to ask.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { isAlive } from '../pid.js';

/** The marker local mode writes while it runs: its process and the console's URL. */
export function runningMarkerOf(dir: string): string {
  return path.join(dir, 'running.json');
}

/**
 * Local mode running from this checkout (its marker, .lifeboat/running.json, names a live
 * process): refuses `what` with the console's URL and how to stop it — never "local reset", which
 * would wipe the running instance's data.
 */
export function assertNotRunning(dir: string, what: string): void {
  const markerFile = runningMarkerOf(dir);
  if (!existsSync(markerFile)) return;
  let running: { pid?: number; url?: string };
  try {
    running = JSON.parse(readFileSync(markerFile, 'utf8')) as typeof running;
  } catch {
    return;
  }
  if (!running.pid || running.pid === process.pid || !isAlive(running.pid)) return;
  throw new ConfigError(
    '',
    `local mode is running from this checkout (process ${running.pid}${running.url ? `, console at ${running.url}` : ''}), so lifeboat will not ${what}: use that one, or stop it first (Ctrl-C in its terminal, or kill ${running.pid}).${what === 'start another' ? ' Do not run "lifeboat local reset" while it runs: that wipes its databases.' : ''}`,
  );
}
