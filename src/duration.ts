// Durations as people write them in config ("90s", "15m", "6h", "1d", "1h30m") and as we print them.

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const DURATION = /^(?:\d+(?:\.\d+)?[smhd])+$/;
const PART = /(\d+(?:\.\d+)?)([smhd])/g;

/** Seconds in a duration like "15m", or null when the text is not one. */
export function parseDurationSeconds(text: string): number | null {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) return null;
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) {
    seconds += Number(amount) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
  }
  return seconds > 0 ? seconds : null;
}

/** "1h 5m", "4m 12s", "37s": short, exact to the second. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.round(totalSeconds);
  if (seconds < 60) return `${seconds}s`;
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const parts = [
    days ? `${days}d` : '',
    hours ? `${hours}h` : '',
    minutes ? `${minutes}m` : '',
    rest && !days ? `${rest}s` : '',
  ];
  return parts.filter(Boolean).join(' ');
}

/** "37s ago", "12m ago", "15h 8m ago": how long before `now`, to the minute past the first one. */
export function formatAgo(then: Date | string, now: Date): string {
  const at = typeof then === 'string' ? Date.parse(then) : then.getTime();
  const seconds = Math.max(0, Math.round((now.getTime() - at) / 1000));
  return `${formatDuration(seconds < 60 ? seconds : Math.floor(seconds / 60) * 60)} ago`;
}
