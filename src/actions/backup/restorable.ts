// What a backup-restore recovery would restore now: the newest backup in the bucket (dated by its
// manifest when lifeboat took it) or the newest available snapshot in the DR region. The RPO gate
// weighs its age; the fence refuses to fence when there is nothing to restore.

import type { ActionContext } from '../types.js';
import { backupTakenAt, type BackupTime } from './taken-at.js';

/** What a restore would restore: the newest backup (its manifest's time) or DR-region snapshot. */
export async function newestRestorable(
  context: ActionContext,
): Promise<(BackupTime & { key: string }) | null> {
  const snapshots = context.providers.snapshots;
  if (snapshots) {
    const newest = (await snapshots.list(snapshots.drRegion)).find(
      (snapshot) => snapshot.status === 'available',
    );
    return newest ? { key: newest.id, at: newest.takenAt, source: 'snapshot' } : null;
  }
  const store = context.providers.backups;
  const [newest] = store ? await store.listBackups() : [];
  if (!store || !newest) return null;
  return { key: newest.key, ...backupTakenAt(newest, await store.readManifest(newest.key)) };
}
