// When a cron schedule fires next, and when it last fired — in the schedule's own time zone.

import { createTask, type ScheduledTask } from 'node-cron';

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

/** Next slots found, per schedule: an answer stands for every moment from `now` up to the slot. */
const ahead = new Map<string, { now: number; slot: number }>();

/** What a node-cron task computes its runs with. getNextRuns() has it start from the machine's clock. */
interface TimeMatcher {
  getNextMatch(from: Date): Date;
}

/**
 * The first slot after `now`: the schedule's next run as of the caller's clock, as node-cron's
 * scheduler will fire it (node-cron's own getNextRuns reads the machine's clock, which a pinned
 * clock or a drill of the past must not). Found once per slot: `/dr status` asking again before
 * the slot comes reads the answer it found.
 */
export function nextSlot(cron: string, timezone: string, now: Date): Date {
  const key = `${timezone} ${cron}`;
  const known = ahead.get(key);
  if (known && known.now <= now.getTime() && now.getTime() < known.slot)
    return new Date(known.slot);
  const task = createTask(cron, () => undefined, { timezone });
  try {
    const matcher = (task as unknown as { timeMatcher?: TimeMatcher }).timeMatcher;
    if (typeof matcher?.getNextMatch !== 'function')
      throw new Error(
        'node-cron no longer has timeMatcher.getNextMatch: nextSlot needs another way',
      );
    const slot = matcher.getNextMatch(now).getTime();
    ahead.set(key, { now: now.getTime(), slot });
    return new Date(slot);
  } finally {
    void task.destroy();
  }
}

/** The latest slot after `after` and at or before `now` (epoch ms), or null. */
function walkBack(cron: string, timezone: string, now: Date, after: number): number | null {
  if (after >= now.getTime()) return null;
  const task = createTask(cron, () => undefined, { timezone });
  try {
    const offsets = offsetsOf(cron);
    const hourStart = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
    for (let base = hourStart; base + 3_600_000 > after; base -= 3_600_000) {
      for (const offset of offsets) {
        const candidate = base + offset;
        if (candidate <= now.getTime() && candidate > after && fires(task, timezone, candidate))
          return candidate;
      }
    }
    return null;
  } finally {
    void task.destroy();
  }
}

/**
 * Whether the schedule fires at `at` (epoch ms). When clocks go back, a local time comes twice and
 * node-cron fires at the first only: the second is no slot.
 */
function fires(task: ScheduledTask, timezone: string, at: number): boolean {
  if (!task.match(new Date(at))) return false;
  const local = wallClock(timezone);
  const shown = local.format(at);
  return shown !== local.format(at - 3_600_000) && shown !== local.format(at - 1_800_000);
}

const wallClocks = new Map<string, Intl.DateTimeFormat>();

/** The local date and time to the second in `timezone`. */
function wallClock(timezone: string): Intl.DateTimeFormat {
  let format = wallClocks.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    wallClocks.set(timezone, format);
  }
  return format;
}

/**
 * The moments within an hour at which the schedule may fire, in ms after the hour, latest first:
 * its minutes, shifted by :15/:30/:45 for zones with such offsets, at its seconds (0 unless it has
 * a seconds field).
 */
function offsetsOf(cron: string): number[] {
  const field = cron.trim().split(/\s+/);
  const seconds = field.length === 6 ? valuesOf(field[0]) : [0];
  const shifted = new Set<number>();
  for (const m of valuesOf(field.length === 6 ? field[1] : field[0]))
    for (const shift of [0, 15, 30, 45]) shifted.add((m + shift) % 60);
  return [...shifted]
    .flatMap((minute) => seconds.map((second) => minute * 60_000 + second * 1000))
    .sort((a, b) => b - a);
}

/** The values 0-59 a minute or seconds field lists (`*`, `a-b`, `a/n`, `*\/n`, lists). */
function valuesOf(field = '*'): number[] {
  const listed = new Set<number>();
  for (const part of field.split(',')) {
    const [range = '*', stepText] = part.split('/');
    const step = Number(stepText ?? 1) || 1;
    const [from, to] =
      range === '*'
        ? [0, 59]
        : range.includes('-')
          ? range.split('-').map(Number)
          : [Number(range), stepText ? 59 : Number(range)];
    for (let value = from ?? 0; value <= (to ?? 59); value += step) listed.add(value);
  }
  return [...listed];
}
