// When a cron schedule fires next, and when it last fired — in the schedule's own time zone.

import { createTask } from 'node-cron';

/** Answers already found, per schedule: a later question walks back only to the newest of them. */
const found = new Map<string, { now: number; slot: number | null }[]>();
const REMEMBERED = 16;

/**
 * The latest slot at or before `now`, looking back at most `days`. Walks back an hour at a time and
 * tries the schedule's minutes (and the :15/:30/:45 shifts of zones with such offsets), so a
 * yearly schedule costs thousands of checks, not half a million — and only once: an answer found
 * for an earlier moment stands unless a slot came after it, so `/dr status` asking again walks
 * back only to the moment it last asked about.
 */
export function previousSlot(cron: string, timezone: string, now: Date, days = 400): Date | null {
  const key = `${days} ${timezone} ${cron}`;
  const earlier = (found.get(key) ?? []).filter((answer) => answer.now <= now.getTime());
  const known = earlier.reduce<(typeof earlier)[number] | null>(
    (best, answer) => (best === null || answer.now > best.now ? answer : best),
    null,
  );
  const oldest = now.getTime() - days * 86_400_000;
  // Never further back than the window, however old the answer remembered.
  const walked = walkBack(cron, timezone, now, Math.max(known?.now ?? 0, oldest - 1));
  const slot = walked ?? known?.slot ?? null;
  const others = (found.get(key) ?? []).filter((answer) => answer.now !== now.getTime());
  found.set(key, [...others, { now: now.getTime(), slot }].slice(-REMEMBERED));
  return slot === null || slot < oldest ? null : new Date(slot);
}

/** The latest slot after `after` and at or before `now` (epoch ms), or null. */
function walkBack(cron: string, timezone: string, now: Date, after: number): number | null {
  if (after >= now.getTime()) return null;
  const task = createTask(cron, () => undefined, { timezone });
  try {
    const minutes = minutesOf(cron);
    const hourStart = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
    for (let base = hourStart; base + 3_600_000 > after; base -= 3_600_000) {
      for (const minute of minutes) {
        const candidate = base + minute * 60_000;
        if (candidate <= now.getTime() && candidate > after && task.match(new Date(candidate)))
          return candidate;
      }
    }
    return null;
  } finally {
    void task.destroy();
  }
}

function minutesOf(cron: string): number[] {
  const field = cron.trim().split(/\s+/);
  const minuteField = field.length === 6 ? field[1] : field[0];
  const listed = new Set<number>();
  for (const part of (minuteField ?? '*').split(',')) {
    const [range = '*', stepText] = part.split('/');
    const step = Number(stepText ?? 1) || 1;
    const [from, to] =
      range === '*'
        ? [0, 59]
        : range.includes('-')
          ? range.split('-').map(Number)
          : [Number(range), stepText ? 59 : Number(range)];
    for (let m = from ?? 0; m <= (to ?? 59); m += step) listed.add(m);
  }
  const shifted = new Set<number>();
  for (const m of listed) for (const shift of [0, 15, 30, 45]) shifted.add((m + shift) % 60);
  return [...shifted].sort((a, b) => b - a);
}
