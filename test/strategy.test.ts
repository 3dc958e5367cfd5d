// What a service can expect of its strategy: measured figures only, and the gaps against its
// objectives said in words a tabletop can act on.

import { describe, expect, it } from 'vitest';
import { describeExpectation, expectRecovery, recoveryFactsFrom } from '../src/strategy.js';

const now = new Date('2026-11-24T12:00:00Z');
const objectives = { rtoSeconds: 900, rpoSeconds: 60 };
const facts = (over: Partial<Parameters<typeof recoveryFactsFrom>[0]> = {}) =>
  recoveryFactsFrom({ lastRuns: [], backups: null, restore: null, lagSeconds: null, now, ...over });

describe('expected recovery', () => {
  it('takes a replica strategy’s RTO from its latest recovery run, and none when that run failed', () => {
    const drill = {
      kind: 'drill',
      status: 'succeeded',
      finishedAt: '2026-11-20T10:00:00Z',
      rtoSeconds: 1500,
    };
    const failed = {
      ...drill,
      kind: 'failover',
      status: 'failed',
      finishedAt: '2026-11-22T10:00:00Z',
    };
    const late = expectRecovery(
      'pilot-light',
      objectives,
      facts({ lastRuns: [drill], lagSeconds: 2 }),
    );
    expect(late.gaps).toEqual(['cannot meet RTO 15m: the last drill took 25m (2026-11-20)']);
    expect(describeExpectation(late)).toBe(
      'pilot light: expected RTO ≈ 25m (the last drill took 25m (2026-11-20)); RPO ≈ 2s (the replica is 2s behind)',
    );
    // A later failover that failed demonstrated no RTO at all: the drill's figure no longer stands.
    const afterFailure = expectRecovery(
      'warm-standby',
      objectives,
      facts({ lastRuns: [drill, failed] }),
    );
    expect(afterFailure.rto).toEqual({
      seconds: null,
      basis: 'not measured: no failover, drill or switchover has succeeded yet',
    });
    expect(afterFailure.gaps).toEqual([]);
    // A replica minutes behind is a missed RPO whatever the strategy's name.
    expect(expectRecovery('active-active', objectives, facts({ lagSeconds: 300 })).gaps).toEqual([
      'cannot meet RPO 1m: the replica is 5m behind',
    ]);
  });

  it('takes backup-restore’s RPO from the backups — the interval, or the newest backup’s age when that is worse — and its RTO from the last passing restore test', () => {
    const backups = (newestHoursAgo: number, previousHoursAgo: number) => ({
      details: {
        newestAt: new Date(now.getTime() - newestHoursAgo * 3600_000).toISOString(),
        previousAt: new Date(now.getTime() - previousHoursAgo * 3600_000).toISOString(),
      },
    });
    const restore = {
      ok: true,
      at: '2026-11-23T06:00:00Z',
      details: { downloadSeconds: 120, restoreSeconds: 480 },
    };
    const regular = expectRecovery(
      'backup-restore',
      { rtoSeconds: 3600, rpoSeconds: 86_400 },
      facts({ backups: backups(1, 7), restore }),
    );
    expect(regular).toMatchObject({
      rto: {
        seconds: 600,
        basis: 'the last restore test took 10m (2026-11-23), before DNS and the application',
      },
      rpo: { seconds: 21_600, basis: 'a backup every 6h' },
      gaps: [],
    });
    // The backups stopped: the newest is older than the interval, and that is what a restore loses.
    const stopped = expectRecovery(
      'backup-restore',
      objectives,
      facts({ backups: backups(30, 36), restore: { ...restore, ok: false } }),
    );
    expect(stopped.rpo).toEqual({ seconds: 108_000, basis: 'the newest backup is 1d 6h old' });
    expect(stopped.rto.seconds).toBeNull();
    expect(stopped.gaps).toEqual(['cannot meet RPO 1m: the newest backup is 1d 6h old']);
  });
});
