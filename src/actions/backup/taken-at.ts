// When a backup's data was current, and how well that is known. Asked by the restore gate (what
// a restore would lose), db.restore (what it restored), backup.verify after a promotion (whose
// data a backup holds) and the backup-restore fence (is there anything to restore).

import type { BackupManifest, BackupObject } from '../../providers/types.js';

export interface BackupTime {
  at: Date;
  /**
   * manifest: lifeboat's manifest says when the dump started, to the millisecond; the data is as
   * of then. snapshot: an RDS snapshot's creation time; the same. store: only the object's date,
   * when its upload ended (S3 keeps whole seconds); the data is older, by as long as the dump and
   * the upload took.
   */
  source: 'manifest' | 'snapshot' | 'store';
}

export function backupTakenAt(backup: BackupObject, manifest: BackupManifest | null): BackupTime {
  return manifest
    ? { at: new Date(manifest.startedAt), source: 'manifest' }
    : { at: backup.lastModified, source: 'store' };
}

/**
 * "data as of 2026-11-24 03:00 UTC"; without a manifest "data from before 2026-11-24 03:00:45 UTC
 * (…)": the store's date bounds the data's age from one side only, and a reader must not take it
 * for the moment the data was current.
 */
export function describeBackupTime(time: BackupTime): string {
  const iso = time.at.toISOString();
  return time.source === 'store'
    ? `data from before ${iso.slice(0, 19).replace('T', ' ')} UTC: stored then, and no manifest says when its dump began`
    : `data as of ${iso.slice(0, 16).replace('T', ' ')} UTC`;
}
