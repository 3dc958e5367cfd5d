// Times as people read them outside Slack (which renders its own): the machine's local time with
// the zone named, so "03:12" is never a guess between UTC and here.

/**
 * "2026-11-24 04:12:00 UTC+1" — in `timeZone` (default: this machine's); to the `minute` for a
 * table ("2026-11-24 04:12 UTC+1").
 */
export function formatLocal(
  date: Date,
  timeZone?: string,
  precision: 'second' | 'minute' = 'second',
): string {
  if (timeZone === undefined || timeZone === 'UTC') return formatByDate(date, timeZone, precision);
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  ) as Record<string, string>;
  const zone = (parts.timeZoneName ?? 'GMT').replace(/^GMT(\+0)?/, 'UTC');
  const seconds = precision === 'second' ? `:${parts.second}` : '';
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}${seconds} ${zone}`;
}

/**
 * The machine's zone and UTC without Intl: the first Intl.DateTimeFormat of a process loads ICU's
 * locale and zone data (~12 ms of every CLI command that prints a time), while Date's own getters
 * need only the zone's rules. The same text as the formatter's; a test holds them equal.
 */
function formatByDate(
  date: Date,
  timeZone: 'UTC' | undefined,
  precision: 'second' | 'minute',
): string {
  const utc = timeZone === 'UTC';
  // Whole minutes: before ~1900 a zone's offset (its local mean time) may have seconds.
  const offset = utc ? 0 : -Math.round(date.getTimezoneOffset());
  const two = (value: number) => String(value).padStart(2, '0');
  const day = utc
    ? date.toISOString().slice(0, 10)
    : `${String(date.getFullYear()).padStart(4, '0')}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
  const hours = utc ? date.getUTCHours() : date.getHours();
  const minutes = utc ? date.getUTCMinutes() : date.getMinutes();
  const seconds =
    precision === 'second' ? `:${two(utc ? date.getUTCSeconds() : date.getSeconds())}` : '';
  const size = Math.abs(offset);
  const zone =
    offset === 0
      ? 'UTC'
      : `UTC${offset < 0 ? '-' : '+'}${Math.floor(size / 60)}${size % 60 ? `:${two(size % 60)}` : ''}`;
  return `${day} ${two(hours)}:${two(minutes)}${seconds} ${zone}`;
}

/**
 * One formatter per named zone, made once: a run's view prints dozens of times, and making each
 * one anew cost ~0.3 ms (12 ms of a `lifeboat run approve`).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** "03:25 UTC": a time of day everyone in an incident reads the same (ETAs, impact times). */
export function clockTimeUtc(date: Date): string {
  return `${date.toISOString().slice(11, 16)} UTC`;
}
