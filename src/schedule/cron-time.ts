// When a cron schedule fires next, and when it last fired — in the schedule's own time zone.

import { createTask } from 'node-cron';

/**
 * The latest slot at or before `now`, looking back at most `days`. Walks back an hour at a time and
 * tries the schedule's minutes (and the :15/:30/:45 shifts of zones with such offsets), so a
 * yearly schedule costs thousands of checks, not half a million.
 */
export function previousSlot(cron: string, timezone: string, now: Date, days = 400): Date | null {
  const task = createTask(cron, () => undefined, { timezone });
  try {
    const minutes = minutesOf(cron);
    const hourStart = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
    for (let h = 0; h <= days * 24; h++) {
      const base = hourStart - h * 3_600_000;
      for (const minute of minutes) {
        const candidate = new Date(base + minute * 60_000);
        if (candidate.getTime() <= now.getTime() && task.match(candidate)) return candidate;
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
