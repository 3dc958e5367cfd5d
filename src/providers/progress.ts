// A long wait on an API (a promotion that takes minutes, a DNS change becoming INSYNC) told as it
// goes: the last status seen, and for how long it has been waited on. A line comes when the status
// changes and at least every PROGRESS_EVERY_MS in between, even while one poll hangs — the person at
// 3 a.m. sees that lifeboat is alive and what it waits for.

import { formatDuration } from '../duration.js';
import { ProviderError } from '../errors.js';
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

export interface Poll<T> {
  /** What is waited on, named: "RDS production-dr (us-west-2)". */
  resource: string;
  /** What it waits for: "the db.r6g.2xlarge class" ("…: waiting for …" in progress lines). */
  waitingFor: string;
  /** One look: the result when done, else null, and the status seen. */
  look: () => Promise<{ done: T | null; status: string }>;
  maxWaitSeconds: number;
  pollMs: number;
  clock: () => Date;
  sleep: (ms: number) => Promise<void>;
  onProgress?: OnProgress;
}

/**
 * Looks until `look` says done, telling each status seen (reportWhileWaiting); past
 * `maxWaitSeconds` a ProviderError names the last status. A look that throws ends the wait with
 * its error (a state that will never turn good is the look's to say).
 */
export function pollUntil<T>(poll: Poll<T>): Promise<T> {
  const deadline = poll.clock().getTime() + poll.maxWaitSeconds * 1000;
  const what = `${poll.resource}: waiting for ${poll.waitingFor}`;
  return reportWhileWaiting(what, poll.onProgress, async (seen) => {
    for (;;) {
      const { done, status } = await poll.look();
      if (done !== null) return done;
      seen(status);
      if (poll.clock().getTime() > deadline)
        throw new ProviderError(
          poll.resource,
          `${poll.waitingFor} did not happen within ${poll.maxWaitSeconds} s (now ${status})`,
          false,
        );
      await poll.sleep(poll.pollMs);
    }
  });
}
