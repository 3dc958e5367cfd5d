// Reading the impact time strictly: the clock is pinned at 15:07:30 UTC on 2026-12-02.

import { describe, expect, it } from 'vitest';
import { describeImpact, parseImpactTime } from '../src/impact-time.js';

const now = new Date('2026-12-02T15:07:30Z');
const read = (text: string) => {
  const result = parseImpactTime(text, now);
  return result instanceof Date ? result.toISOString() : result;
};

describe('the impact time', () => {
  it('reads HH:MM and HH:MM:SS as today, UTC', () => {
    expect(read('14:55')).toBe('2026-12-02T14:55:00.000Z');
    expect(read('3:12')).toBe('2026-12-02T03:12:00.000Z');
    expect(read('15:07:29')).toBe('2026-12-02T15:07:29.000Z');
  });

  it('refuses a clock time later than now instead of moving it to yesterday, and says what to type', () => {
    expect(read('23:59')).toBe(
      '23:59 UTC is later than now (15:07:30 UTC): the outage began in the past. If it began yesterday, give the date: 2026-12-01T23:59Z',
    );
  });

  it('reads "N unit ago"', () => {
    expect(read('15 min ago')).toBe('2026-12-02T14:52:30.000Z');
    expect(read('2h ago')).toBe('2026-12-02T13:07:30.000Z');
    expect(read('90 seconds ago')).toBe('2026-12-02T15:06:00.000Z');
    expect(read('1 day ago')).toBe('2026-12-01T15:07:30.000Z');
    expect(read('5 fortnights ago')).toMatch(/^"fortnights" is not a unit/);
  });

  it('reads full ISO times, with a zone or as UTC without one', () => {
    expect(read('2026-12-02T14:00:00Z')).toBe('2026-12-02T14:00:00.000Z');
    expect(read('2026-12-02T15:00+01:00')).toBe('2026-12-02T14:00:00.000Z');
    expect(read('2026-12-02 14:00')).toBe('2026-12-02T14:00:00.000Z');
  });

  it('refuses what it would otherwise guess: "5", a name, an impossible date, the future, last year', () => {
    expect(read('5')).toMatch(
      /^"5" is not a time lifeboat reads\. Write when the outage began as HH:MM or HH:MM:SS/,
    );
    expect(read('lunchtime')).toMatch(/^"lunchtime" is not a time lifeboat reads/);
    expect(read('24:00')).toMatch(/^24:00 is not a time of day/);
    expect(read('2026-02-31T10:00Z')).toMatch(/is not a date and time/);
    expect(read('2026-12-02T16:00:00Z')).toBe(
      '2026-12-02 16:00:00 UTC is in the future (now 2026-12-02 15:07:30 UTC): give the time the outage began',
    );
    expect(read('2025-12-02T10:00Z')).toMatch(/is more than 30 days ago: check the date/);
  });

  it('empty means now', () => {
    expect(parseImpactTime('  ', now)).toBeNull();
  });

  it('is shown back in full, with how long ago', () => {
    expect(describeImpact(new Date('2026-12-02T14:55:00Z'), now)).toBe(
      '2026-12-02 14:55:00 UTC, 12m ago',
    );
    expect(describeImpact(new Date('2026-12-01T23:59:00Z'), now)).toBe(
      '2026-12-01 23:59:00 UTC, 15h 8m ago',
    );
  });
});
