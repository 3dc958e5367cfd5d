// Which backup a restore test picks: the newest, or one at random from the window and never one
// older than it. A pure function over a listing, with the clock and the dice pinned.

import { describe, expect, it } from 'vitest';
import { pickBackup } from '../../src/checks/restore.js';
import type { BackupObject } from '../../src/providers/types.js';

const now = new Date('2026-11-24T03:00:00Z');
const daysAgo = (days: number): BackupObject => ({
  key: `pg/${days}d.dump`,
  size: 100,
  lastModified: new Date(now.getTime() - days * 86_400_000),
  etag: null,
  checksum: null,
});
const listing = [daysAgo(1), daysAgo(20), daysAgo(29.9), daysAgo(30.1), daysAgo(40)];

describe('picking a backup to restore', () => {
  it('newest takes the first of the listing (newest first)', () => {
    expect(pickBackup(listing, { pick: 'newest', withinSeconds: null, now })?.key).toBe(
      'pg/1d.dump',
    );
    expect(pickBackup([], { pick: 'newest', withinSeconds: null, now })).toBeNull();
  });

  it('random stays inside the window at both ends of the dice', () => {
    const within = 30 * 86_400;
    const pick = (dice: number) =>
      pickBackup(listing, { pick: 'random', withinSeconds: within, now, random: () => dice })?.key;
    expect(pick(0)).toBe('pg/1d.dump');
    expect(pick(0.5)).toBe('pg/20d.dump');
    expect(pick(0.999_999)).toBe('pg/29.9d.dump');
  });

  it('an empty window picks nothing, rather than something older', () => {
    expect(
      pickBackup([daysAgo(40)], {
        pick: 'random',
        withinSeconds: 30 * 86_400,
        now,
        random: () => 0,
      }),
    ).toBeNull();
  });
});
