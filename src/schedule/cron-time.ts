// When a cron schedule fires next, and when it last fired — in the schedule's own time zone, as of
// the caller's clock, and exactly as node-cron's scheduler fires it (its own matcher answers).

import { createTask } from 'node-cron';

/** What a node-cron task computes its runs with. getNextRuns() has it start from the machine's clock. */
interface TimeMatcher {
  getNextMatch(from: Date): Date;
}

/** The slots around a moment asked about: the latest at or before it (null: none in the window), and the first after it. */
interface Around {
  now: number;
  slot: number | null;
  next: number;
}

/**
 * Answers already found, per schedule and window. One stands for every moment from its `now` up to
 * its `next`: no slot comes in between. /dr status asks about two moments (now, and just before the
 * latest slot), so a few are kept.
 */
const found = new Map<string, Around[]>();
const REMEMBERED = 16;

/** The latest slot at or before `now`, looking back at most `days`; null when none is that recent. */
export function previousSlot(cron: string, timezone: string, now: Date, days = 400): Date | null {
  const oldest = now.getTime() - days * 86_400_000;
  const { slot } = around(cron, timezone, now.getTime(), oldest, `${days}`);
  return slot === null || slot < oldest ? null : new Date(slot);
}

/**
 * The first slot after `now`: the schedule's next run as of the caller's clock (node-cron's own
 * getNextRuns reads the machine's, which a pinned clock or a drill of the past must not).
 */
export function nextSlot(cron: string, timezone: string, now: Date): Date {
  // No slot before is wanted: the window is `now` itself.
  return new Date(around(cron, timezone, now.getTime(), now.getTime(), 'next').next);
}

/**
 * The slots around `now` (epoch ms), the one before searched back to `oldest`: from an answer found
 * before when one stands, else by asking node-cron for the first slot after ever earlier moments
 * (a minute back, two, four…: some twenty questions for a yearly schedule), then walking forward
 * from the first one found to the last at or before `now`.
 */
function around(
  cron: string,
  timezone: string,
  now: number,
  oldest: number,
  window: string,
): Around {
  const key = `${window} ${timezone} ${cron}`;
  const remembered = found.get(key) ?? [];
  const known = remembered.find((answer) => answer.now <= now && now < answer.next);
  if (known) return known;
  const task = createTask(cron, () => undefined, { timezone });
  try {
    const matcher = (task as unknown as { timeMatcher?: TimeMatcher }).timeMatcher;
    if (typeof matcher?.getNextMatch !== 'function')
      throw new Error(
        'node-cron no longer has timeMatcher.getNextMatch: cron-time needs another way',
      );
    const after = (moment: number) => matcher.getNextMatch(new Date(moment)).getTime();
    let slot: number | null = null;
    for (let width = 60_000; slot === null; width *= 2) {
      const from = Math.max(now - width, oldest - 1);
      const first = after(from);
      if (first <= now) slot = first;
      else if (from === oldest - 1) break;
    }
    let next = after(slot ?? now);
    for (; next <= now; next = after(next)) slot = next;
    const answer = { now, slot, next };
    found.set(key, [...remembered.filter((a) => a.now !== now), answer].slice(-REMEMBERED));
    return answer;
  } finally {
    void task.destroy();
  }
}
