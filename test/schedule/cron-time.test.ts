// When a schedule last fired: the answer /dr status and the scheduler's catch-up rely on, the same
// whether it is found by a whole walk back or from an answer found for an earlier moment.

import { describe, expect, it } from 'vitest';
import { previousSlot } from '../../src/schedule/cron-time.js';

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
