// db.restore: the backup-and-restore strategy's recovery — the newest backup that passes its
// checks, restored into the DR server (`database.replica` of a backup-restore service), which then
// takes the writes. Like a promotion it makes a second server writable, so the engine holds it to
// the same gates: fenced (or unreachable) old primary, two-person approval, and the data it loses
// (everything after the backup) weighed against the RPO before it starts.
//
// The download is checked (the manifest's SHA-256, else the store's checksum); a backup that fails
// is passed over for the next older one, and said. pg_restore runs in one transaction, so a crash
// leaves the server as it was and running the step again restores again.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatDuration } from '../../duration.js';
import { ChecksumMismatch, ProviderError, isLifeboatError } from '../../errors.js';
import { describeUrl, withFreshClient } from '../../providers/postgres/connect.js';
import { countRowsIn, restoreDump } from '../../providers/postgres/dump.js';
import type { BackupDownload } from '../../providers/types.js';
import { backupTakenAt, describeBackupTime } from '../backup/taken-at.js';
import type { Action, ActionContext, ActionOutcome } from '../types.js';

/** How many backups, newest first, a restore tries before it gives up on finding a good one. */
const TRIES = 3;

/** Why `db.restore` does not apply to the run's service, or null. */
export function cannotRestore(context: ActionContext): string | null {
  const service = context.service;
  if (!service) return 'This run has no service to restore.';
  if (service.strategy !== 'backup-restore')
    return `${service.name} recovers by ${service.strategy} (a promotion), not from backups: db.restore is for backup-restore services.`;
  if (service.database.provider === 'aws-rds')
    return context.providers.snapshots
      ? null
      : `${service.name} has no snapshots: in lifeboat.yml.`;
  if (!context.providers.backups) return `${service.name} has no backups: in lifeboat.yml.`;
  return null;
}

/** An RDS service's recovery: the newest available snapshot in the DR region, made an instance. */
async function restoreRds(context: ActionContext): Promise<ActionOutcome> {
  const store = context.providers.snapshots!;
  const replica = (context.service!.database as { replica: { id: string; region: string } })
    .replica;
  const snapshot = (await store.list(store.drRegion)).find((each) => each.status === 'available');
  if (!snapshot)
    throw new ProviderError(
      `RDS snapshots (${store.drRegion})`,
      'there is no available snapshot in the DR region to restore: copy one there (backup.copy-snapshot)',
      true,
    );
  const started = performance.now();
  context.progress(`restoring ${snapshot.id} as ${replica.id} in ${store.drRegion}…`);
  const { endpoint } = await store.restore(snapshot, replica.id, context.progress);
  return {
    summary: `RDS ${replica.id} (${store.drRegion}) restored from ${snapshot.id} (${describeBackupTime({ at: snapshot.takenAt, source: 'snapshot' })}) in ${formatDuration((performance.now() - started) / 1000)}: available at ${endpoint}`,
    details: { snapshot: snapshot.id, backupAt: snapshot.takenAt.toISOString(), endpoint },
    protection: {
      state: 'unprotected',
      writer: 'replica',
      detail: `RDS ${replica.id} was restored from ${snapshot.id}; nothing replicates it yet`,
    },
  };
}

function targetOf(context: ActionContext): { url: string; name: string } {
  const database = context.service!.database as { replica: string };
  return { url: database.replica, name: describeUrl('DR server', database.replica) };
}

export const restore: Action = {
  name: 'db.restore',
  skipReason: cannotRestore,
  plan: (context) =>
    cannotRestore(context) ??
    (context.providers.snapshots
      ? `Restore the newest available snapshot in ${context.providers.snapshots.drRegion} as a new RDS instance ${(context.service!.database as { replica: { id: string } }).replica.id} (RestoreDBInstanceFromDBSnapshot), and wait until it is available: it takes the writes. Everything written after the snapshot is lost.`
      : undefined) ??
    `Restore the newest backup in ${context.providers.backups!.name} that passes its checksum into ${targetOf(context).name} (pg_restore --clean in one transaction): what that server holds is replaced, and it takes the writes. Everything written after the backup is lost.`,
  async run(context) {
    if (context.providers.snapshots) return restoreRds(context);
    const store = context.providers.backups!;
    const target = targetOf(context);
    const probe = await context.providers.database!.probe('replica', 'decision');
    if (probe.role !== 'writable')
      throw new ProviderError(
        target.name,
        `cannot take the restore: ${probe.detail}. A backup-restore DR server is a standalone PostgreSQL that accepts writes`,
        probe.role !== 'unreachable',
      );
    const passedOver: string[] = [];
    const listing = await store.listBackups();
    if (listing.length === 0)
      throw new ProviderError(store.name, 'holds no backup to restore', true);
    const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-restore-'));
    try {
      for (const backup of listing.slice(0, TRIES)) {
        const file = path.join(dir, 'backup.dump');
        context.progress(`downloading ${backup.key} (${backup.size} bytes)…`);
        const downloadStarted = performance.now();
        let download: BackupDownload;
        try {
          download = await store.downloadBackup(backup.key, file);
        } catch (error) {
          if (!(error instanceof ChecksumMismatch)) throw error;
          passedOver.push(`${backup.key}: ${error.reason}`);
          continue;
        }
        const downloadSeconds = (performance.now() - downloadStarted) / 1000;
        context.progress(`restoring ${backup.key} into ${target.name}…`);
        const restored = await restoreDump(target, file);
        const counts = countProblems(restored.tables, download.manifest?.tables ?? null);
        if (counts.length > 0)
          throw new ProviderError(
            target.name,
            `restored ${backup.key}, but not the rows counted when it was taken: ${counts.join('; ')}`,
            false,
          );
        const taken = backupTakenAt(backup, download.manifest ?? null);
        const rows = Object.values(restored.tables).reduce((sum, n) => sum + n, 0);
        return {
          summary: `${target.name} holds ${backup.key} (${describeBackupTime(taken)}): ${download.bytes} bytes, downloaded in ${formatDuration(downloadSeconds)}, restored in ${formatDuration(restored.seconds)}, ${Object.keys(restored.tables).length} tables (${rows} rows)${download.manifest ? ', as counted when the backup was taken' : ''}; ${download.integrity.detail}${passedOver.length > 0 ? `. Passed over: ${passedOver.join('; ')}` : ''}`,
          details: {
            key: backup.key,
            backupAt: taken.at.toISOString(),
            bytes: download.bytes,
            downloadSeconds,
            restoreSeconds: restored.seconds,
            tables: restored.tables,
            passedOver,
          },
          protection: {
            state: 'unprotected',
            writer: 'replica',
            detail: `${target.name} was restored from ${backup.key}; nothing replicates it yet`,
          },
        };
      }
      throw new ProviderError(
        store.name,
        `none of the newest ${Math.min(TRIES, listing.length)} backups passed its checksum: ${passedOver.join('; ')}`,
        true,
      );
    } catch (error) {
      if (isLifeboatError(error)) throw error;
      throw new ProviderError(target.name, (error as Error).message, false, { cause: error });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  async verify(context, outcome) {
    if (context.providers.snapshots) {
      const probe = await context.providers.database!.probe('replica', 'decision');
      return probe.role === 'writable'
        ? { ok: true, summary: `${probe.name} takes writes` }
        : { ok: false, summary: `${probe.name} does not take writes: ${probe.detail}` };
    }
    const database = context.providers.database!;
    const probe = await database.probe('replica', 'decision');
    if (probe.role !== 'writable')
      return {
        ok: false,
        summary: `${targetOf(context).name} does not take writes: ${probe.detail}`,
      };
    // The rows counted again, on a connection of its own: what the restore said it left.
    const target = targetOf(context);
    const restored = outcome.details.tables as Record<string, number>;
    const now = await withFreshClient(target.url, target.name, (client) => countRowsIn(client));
    const missing = countProblems(now, restored);
    return missing.length === 0
      ? {
          ok: true,
          summary: `${target.name} takes writes and holds the ${Object.keys(restored).length} restored tables with their rows`,
        }
      : { ok: false, summary: `${target.name}: ${missing.join('; ')}` };
  },
};

/** Tables of `expected` that `restored` does not hold with those rows. */
function countProblems(
  restored: Record<string, number>,
  expected: Record<string, number> | null,
): string[] {
  if (!expected) return [];
  return Object.entries(expected).flatMap(([table, rows]) =>
    restored[table] === rows ? [] : [`${table} holds ${restored[table] ?? 'no'} rows, not ${rows}`],
  );
}
