// The snapshot check of an aws-rds service with snapshots: the newest snapshot of its instances in
// the DR region — there at all (a snapshot only in the primary's region goes down with it: the
// seed's mistake 2), available, and younger than max_age.

import type { Service } from '../config.js';
import { formatDuration, parseDurationSeconds } from '../duration.js';
import { isLifeboatError } from '../errors.js';
import type { SnapshotStore } from '../providers/types.js';
import type { CheckResult } from './results.js';

export async function checkSnapshots(
  service: Service,
  store: SnapshotStore,
  now: Date,
): Promise<CheckResult> {
  const maxAge = parseDurationSeconds(service.snapshots!.max_age)!;
  const result = (ok: boolean, summary: string, state: string): CheckResult => ({
    check: 'snapshots',
    service: service.name,
    ok,
    summary,
    state,
    at: now.toISOString(),
  });
  try {
    const [inDr, atPrimary] = await Promise.all([
      store.list(store.drRegion),
      store.drRegion === store.primaryRegion
        ? Promise.resolve([])
        : store.list(store.primaryRegion),
    ]);
    if (store.drRegion === store.primaryRegion)
      return result(
        false,
        `snapshots are copied to ${store.drRegion}, the primary's own region: a regional disaster takes both — set snapshots.copy_to to another region`,
        'beside the primary',
      );
    const newest = inDr.find((snapshot) => snapshot.status === 'available') ?? null;
    const there = atPrimary[0] ? `; newest in ${store.primaryRegion}: ${atPrimary[0].id}` : '';
    if (!newest)
      return result(
        false,
        `no available snapshot in ${store.drRegion} (the DR region)${atPrimary[0] ? `: the newest, ${atPrimary[0].id}, is only in ${store.primaryRegion} with the primary — copy it (backup.copy-snapshot)` : ''}`,
        'none in the DR region',
      );
    const age = Math.max(0, (now.getTime() - newest.takenAt.getTime()) / 1000);
    if (age > maxAge)
      return result(
        false,
        `the newest snapshot in ${store.drRegion}, ${newest.id}, is ${formatDuration(age)} old, older than max_age ${formatDuration(maxAge)}${there}`,
        'stale',
      );
    return result(
      true,
      `newest in ${store.drRegion} (the DR region): ${newest.id} of ${newest.instance}, ${formatDuration(age)} old (max ${formatDuration(maxAge)})${there}`,
      'ok',
    );
  } catch (error) {
    if (!isLifeboatError(error)) throw error;
    return result(false, error.message, `error: ${error.message}`);
  }
}
