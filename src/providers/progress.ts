// A long wait on an API (a promotion that takes minutes, a DNS change becoming INSYNC) told as it
// goes: the last status seen, and for how long it has been waited on. A line comes when the status
// changes and at least every PROGRESS_EVERY_MS in between, even while one poll hangs — the person at
// 3 a.m. sees that lifeboat is alive and what it waits for.

import { formatDuration } from '../duration.js';
import type { OnProgress } from './types.js';

export const PROGRESS_EVERY_MS = 15_000;

/**
 * Runs `work`, which calls `seen(status)` after each poll. `onProgress` hears
 * "`what`: `status`, `elapsed` so far" at each new status and every `everyMs` while work runs.
 */
export async function reportWhileWaiting<T>(
  what: string,
  onProgress: OnProgress | undefined,
  work: (seen: (status: string) => void) => Promise<T>,
  everyMs = PROGRESS_EVERY_MS,
): Promise<T> {
  if (!onProgress) return work(() => undefined);
  const started = performance.now();
  let last = 'waiting for the first answer';
  const tell = () => {
    const seconds = Math.floor((performance.now() - started) / 1000);
    onProgress(`${what}: ${last}, ${formatDuration(seconds)} so far`);
  };
  let timer = setInterval(tell, everyMs);
  timer.unref();
  try {
    return await work((status) => {
      if (status === last) return;
      last = status;
      tell();
      clearInterval(timer);
      timer = setInterval(tell, everyMs);
      timer.unref();
    });
  } finally {
    clearInterval(timer);
  }
}
