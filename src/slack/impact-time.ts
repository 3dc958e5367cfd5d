// "The outage began at 03:12": the impact time typed in the confirmation, as UTC. Empty means now.

/** A Date, null for "now", or a sentence saying what is wrong. */
export function parseImpactTime(text: string, now: Date): Date | null | string {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const clock = /^(\d{1,2}):(\d{2})$/.exec(trimmed);
  const date = clock
    ? new Date(
        Date.UTC(
          now.getUTCFullYear(),
          now.getUTCMonth(),
          now.getUTCDate(),
          Number(clock[1]),
          Number(clock[2]),
        ),
      )
    : new Date(trimmed);
  if (Number.isNaN(date.getTime()) || (clock && (Number(clock[1]) > 23 || Number(clock[2]) > 59))) {
    return 'Write the time the outage began as HH:MM (UTC, today) or a full ISO time like 2026-11-24T03:12:00Z';
  }
  if (clock && date.getTime() > now.getTime()) date.setUTCDate(date.getUTCDate() - 1); // 23:50 typed at 00:10
  if (date.getTime() > now.getTime())
    return 'The impact time is in the future: it is when the outage began';
  return date;
}
