// When a schedule last fired: the answer /dr status and the scheduler's catch-up rely on, the same
// whether it is found by a whole walk back or from an answer found for an earlier moment. And when
// it fires next, as of the caller's clock, never the machine's.

import { createTask } from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextSlot, previousSlot } from '../../src/schedule/cron-time.js';

const at = (iso: string) => new Date(iso);

describe('previousSlot', () => {
  it('finds the latest slot at or before now, asked in any order', () => {
    const quarterly = '0 10 1 */3 *';
    expect(previousSlot(quarterly, 'UTC', at('2026-06-01T00:00:00Z'))).toEqual(
      at('2026-04-01T10:00:00Z'),
    );
    // Later, with a slot passed in between, and on the slot itself.
    expect(previousSlot(quarterly, 'UTC', at('2026-07-01T10:00:00Z'))).toEqual(
      at('2026-07-01T10:00:00Z'),
    );
    expect(previousSlot(quarterly, 'UTC', at('2026-07-01T09:59:00Z'))).toEqual(
      at('2026-04-01T10:00:00Z'),
    );
    expect(previousSlot(quarterly, 'UTC', at('2026-06-15T00:00:00Z'))).toEqual(
      at('2026-04-01T10:00:00Z'),
    );
    // Earlier than anything asked before.
    expect(previousSlot(quarterly, 'UTC', at('2026-03-01T00:00:00Z'))).toEqual(
      at('2026-01-01T10:00:00Z'),
    );
  });

  it('keeps to the time zone of the schedule', () => {
    expect(previousSlot('30 9 * * 1', 'Asia/Kolkata', at('2026-11-30T12:00:00Z'))).toEqual(
      at('2026-11-30T04:00:00Z'), // Monday 09:30 in India, UTC+05:30
    );
  });

  it('takes a local time that comes twice when clocks go back as one slot, the first, as node-cron fires it', () => {
    // 2026-11-01, New York: 01:30 EDT is 05:30Z; an hour later it is 01:30 EST again, at 06:30Z.
    const sunday = '30 1 * * 0';
    expect(previousSlot(sunday, 'America/New_York', at('2026-11-01T06:45:00Z'))).toEqual(
      at('2026-11-01T05:30:00Z'),
    );
    expect(nextSlot(sunday, 'America/New_York', at('2026-11-01T05:30:00Z'))).toEqual(
      at('2026-11-08T06:30:00Z'),
    );
  });

  it('answers none once the last slot is older than the window, even if it was found before', () => {
    const yearly = '0 10 1 1 *';
    expect(previousSlot(yearly, 'UTC', at('2026-01-15T00:00:00Z'), 30)).toEqual(
      at('2026-01-01T10:00:00Z'),
    );
    expect(previousSlot(yearly, 'UTC', at('2026-03-01T00:00:00Z'), 30)).toBeNull();
    expect(previousSlot(yearly, 'UTC', at('2027-01-01T10:00:00Z'), 30)).toEqual(
      at('2027-01-01T10:00:00Z'),
    );
  });
});

describe('nextSlot', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** node-cron's own answer, with the machine's clock pinned at `now`: the oracle. */
  function nodeCronNext(cron: string, timezone: string, now: Date): Date | null {
    vi.useFakeTimers({ now, toFake: ['Date'] });
    try {
      const task = createTask(cron, () => undefined, { timezone });
      const [next] = task.getNextRuns(1);
      void task.destroy();
      return next ?? null;
    } finally {
      vi.useRealTimers();
    }
  }

  it("gives node-cron's next run for the caller's moment, across zones, DST changes and a seconds field", () => {
    const schedules: [string, string][] = [
      ['0 10 1 */3 *', 'UTC'], // quarterly
      ['30 9 * * 1', 'Asia/Kolkata'], // UTC+05:30
      ['0 2 * * *', 'Europe/Berlin'], // 02:00 does not exist on the spring-forward day
      ['30 1 * * 0', 'America/New_York'], // 01:30 happens twice on the fall-back day
      ['*/15 * * * *', 'Australia/Adelaide'], // UTC+09:30 / +10:30
      ['45 23 31 12 *', 'Pacific/Chatham'], // UTC+12:45 / +13:45, yearly
      ['30 0 10 * * *', 'UTC'], // a seconds field
    ];
    const moments = [
      '2026-03-28T23:59:00Z',
      '2026-03-29T00:30:00Z',
      '2026-10-31T12:00:00Z',
      '2026-11-01T05:29:59Z',
      '2026-11-01T05:30:00Z',
      '2026-12-31T10:15:00Z',
      '2027-02-28T23:00:30Z',
    ].map(at);
    for (const [cron, timezone] of schedules)
      for (const now of moments)
        expect({ cron, timezone, now, next: nextSlot(cron, timezone, now) }).toEqual({
          cron,
          timezone,
          now,
          next: nodeCronNext(cron, timezone, now),
        });
  });

  it('answers a later question from the slot it found, and an earlier one afresh', () => {
    const weekly = '0 9 * * 1';
    expect(nextSlot(weekly, 'UTC', at('2026-12-01T00:00:00Z'))).toEqual(at('2026-12-07T09:00:00Z'));
    expect(nextSlot(weekly, 'UTC', at('2026-12-07T08:59:00Z'))).toEqual(at('2026-12-07T09:00:00Z'));
    // On the slot itself: the next one.
    expect(nextSlot(weekly, 'UTC', at('2026-12-07T09:00:00Z'))).toEqual(at('2026-12-14T09:00:00Z'));
    // Before the moment first asked about, with a slot in between.
    expect(nextSlot(weekly, 'UTC', at('2026-11-25T00:00:00Z'))).toEqual(at('2026-11-30T09:00:00Z'));
  });
});
