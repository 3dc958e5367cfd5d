import { afterEach, describe, expect, it } from 'vitest';
import { formatLocal } from '../src/time.js';

describe('local times', () => {
  const machineZone = process.env.TZ;
  afterEach(() => {
    if (machineZone === undefined) delete process.env.TZ;
    else process.env.TZ = machineZone;
  });

  it('names the zone, and moves with it', () => {
    const at = new Date('2026-11-24T03:12:05Z');
    expect(formatLocal(at, 'UTC')).toBe('2026-11-24 03:12:05 UTC');
    expect(formatLocal(at, 'Europe/Berlin')).toBe('2026-11-24 04:12:05 UTC+1');
    expect(formatLocal(at, 'America/New_York')).toBe('2026-11-23 22:12:05 UTC-5');
  });

  it("writes the machine's zone as the zone's own formatter would, across DST and odd offsets", () => {
    // The machine's zone is read from Date's getters (no Intl); each answer must be the text the
    // Intl formatter gives for the same zone named.
    const moments = [
      '2026-11-24T03:12:05Z',
      '2026-03-29T00:59:59Z', // Berlin, a second before spring-forward
      '2026-03-29T01:00:00Z', // … and at it
      '2026-11-01T05:30:00Z', // New York, the repeated hour of fall-back
      '2026-11-01T06:30:00Z',
      '2026-12-31T23:59:59Z', // a new year somewhere, not yet in others
      '2027-01-01T00:00:00Z',
      '2026-07-01T12:00:07Z',
    ].map((iso) => new Date(iso));
    const zones = [
      'UTC',
      'Europe/Berlin',
      'America/New_York',
      'Asia/Kolkata', // +5:30
      'America/St_Johns', // -3:30, DST
      'Pacific/Chatham', // +12:45 / +13:45
      'Pacific/Kiritimati', // +14
      'Australia/Lord_Howe', // a half-hour DST
      'Pacific/Honolulu',
    ];
    for (const zone of zones) {
      process.env.TZ = zone;
      for (const at of moments) {
        // 'Etc/UTC' takes the Intl path for UTC too.
        const named = zone === 'UTC' ? 'Etc/UTC' : zone;
        expect(`${zone} ${formatLocal(at)}`).toBe(`${zone} ${formatLocal(at, named)}`);
        expect(formatLocal(at, undefined, 'minute')).toBe(formatLocal(at, named, 'minute'));
      }
    }
    process.env.TZ = 'UTC';
    expect(formatLocal(new Date('2026-11-24T03:12:05Z'))).toBe('2026-11-24 03:12:05 UTC');
    process.env.TZ = 'Asia/Kolkata';
    expect(formatLocal(new Date('2026-11-24T03:12:05Z'), undefined, 'minute')).toBe(
      '2026-11-24 08:42 UTC+5:30',
    );
  });
});
