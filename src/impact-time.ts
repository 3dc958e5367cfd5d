// "The outage began at 03:12": the impact time typed in the confirmation (or --impact-at), read
// strictly as UTC — HH:MM[:SS] today, "15 min ago", or a full ISO time — and never guessed: a
// time later than now is refused, not moved to yesterday, and loose text ("5") is refused, not
// read as a date. Whatever is accepted is echoed back in full before the run starts.

import { formatAgo } from './duration.js';
import { formatLocal } from './time.js';

const HOW =
  'Write when the outage began as HH:MM or HH:MM:SS (UTC, today), "15 min ago", or a full ISO time like 2026-11-24T03:12:00Z';
const MAX_AGE_DAYS = 30;

const UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86_400,
  day: 86_400,
  days: 86_400,
};

/** A Date, null for "now" (empty), or a sentence saying what is wrong. */
export function parseImpactTime(text: string, now: Date): Date | null | string {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const date = readTime(trimmed, now);
  if (typeof date === 'string') return date;
  if (date.getTime() > now.getTime()) {
    const clockOnly = /^\d{1,2}:\d{2}(:\d{2})?$/.test(trimmed);
    return clockOnly
      ? `${trimmed} UTC is later than now (${formatUtc(now).slice(11)}): the outage began in the past. If it began yesterday, give the date: ${isoMinute(new Date(date.getTime() - 86_400_000))}`
      : `${formatUtc(date)} is in the future (now ${formatUtc(now)}): give the time the outage began`;
  }
  if (now.getTime() - date.getTime() > MAX_AGE_DAYS * 86_400_000)
    return `${formatUtc(date)} is more than ${MAX_AGE_DAYS} days ago: check the date (an RTO measured from it would mean nothing)`;
  return date;
}

function readTime(text: string, now: Date): Date | string {
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (clock) {
    const [hours, minutes, seconds] = [Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0)];
    if (hours > 23 || minutes > 59 || seconds > 59) return `${text} is not a time of day. ${HOW}`;
    return new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hours, minutes, seconds),
    );
  }
  const ago = /^(\d+(?:\.\d+)?)\s*([a-z]+)\s+ago$/i.exec(text);
  if (ago) {
    const unit = UNITS[(ago[2] ?? '').toLowerCase()];
    if (unit === undefined) return `"${ago[2]}" is not a unit (s, min, h, d). ${HOW}`;
    return new Date(now.getTime() - Math.round(Number(ago[1]) * unit * 1000));
  }
  const iso =
    /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(
      text,
    );
  if (iso) {
    const zoned = iso[7] ? text.replace(' ', 'T') : `${text.replace(' ', 'T')}Z`;
    const date = new Date(zoned);
    const [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    const calendar = new Date(Date.UTC(year, month - 1, day));
    if (
      Number.isNaN(date.getTime()) ||
      calendar.getUTCMonth() !== month - 1 ||
      calendar.getUTCDate() !== day ||
      Number(iso[4]) > 23 ||
      Number(iso[5]) > 59
    )
      return `${text} is not a date and time. ${HOW}`;
    return date;
  }
  return `"${text}" is not a time lifeboat reads. ${HOW}`;
}

/** "2026-11-24 03:12:00 UTC" */
export function formatUtc(date: Date): string {
  return formatLocal(date, 'UTC');
}

/** "2026-11-24 03:12:00 UTC, 12 min ago" — what the person is shown before the run starts. */
export function describeImpact(date: Date, now: Date): string {
  return `${formatUtc(date)}, ${formatAgo(date, now)}`;
}

function isoMinute(date: Date): string {
  return `${date.toISOString().slice(0, 16)}Z`;
}
