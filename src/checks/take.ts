// `lifeboat backup take`, `/dr backups take` and the scheduled `check: backup-take`: a backup of
// every service lifeboat can dump (or one), then its retention. Each outcome is a stored result
// (what /dr status and the alerts read) and the audit log holds every backup taken or deleted —
// a deletion is recorded before it is made.

import type { Config, Service } from '../config.js';
import { isLifeboatError } from '../errors.js';
import {
  cannotTakeBackup,
  describeSnapshotTaken,
  planRetention,
  takeBackup,
  takeSnapshot,
  type BackupTaken,
} from '../actions/backup/take.js';
import type { ServiceProviders } from '../actions/types.js';
import { formatDuration } from '../duration.js';
import type { RunKind } from '../runbook/model.js';
import { recordAuditEvent } from '../store/audit.js';
import type { Sql } from '../store/db.js';
import { recordCheckResult, type CheckResult } from './backups.js';

export interface TakeResult extends CheckResult {
  taken: BackupTaken | null;
  deleted: string[];
}

export async function takeBackups(
  config: Config,
  db: Sql,
  providersFor: (service: Service, kind: RunKind) => ServiceProviders,
  options: {
    clock: () => Date;
    /** Who asked: `system` for the schedule, `cli:<user>`, a Slack user. */
    actor: string;
    only?: string | null;
    onProgress?: (service: string, text: string) => void;
  },
): Promise<TakeResult[]> {
  const results: TakeResult[] = [];
  for (const service of Object.values(config.services)) {
    if (options.only ? service.name !== options.only : cannotTakeBackup(service)) continue;
    const result = await takeOne(service, providersFor(service, 'restore-test'), db, options);
    await recordCheckResult(db, 'backup-take', result, {
      state: result.state,
      key: result.taken?.key ?? null,
      bytes: result.taken?.bytes ?? null,
      sha256: result.taken?.sha256 ?? null,
      seconds: result.taken?.seconds ?? null,
      deleted: result.deleted,
    });
    results.push(result);
  }
  return results;
}

async function takeOne(
  service: Service,
  providers: ServiceProviders,
  db: Sql,
  options: Parameters<typeof takeBackups>[3],
): Promise<TakeResult> {
  const subject = `service:${service.name}`;
  const at = options.clock().toISOString();
  const result = (fields: Pick<TakeResult, 'ok' | 'summary' | 'state'> & Partial<TakeResult>) => ({
    check: 'backup-take',
    service: service.name,
    at,
    taken: null,
    deleted: [],
    ...fields,
  });
  if (service.database.provider === 'aws-rds')
    return takeRdsSnapshot(service, providers, db, options);
  let taken: BackupTaken;
  try {
    taken = await takeBackup(service, providers, {
      clock: options.clock,
      onProgress: (text) => options.onProgress?.(service.name, text),
    });
  } catch (error) {
    return result(await failed(error, db, subject, options));
  }
  await recordAuditEvent(
    db,
    {
      actor: options.actor,
      action: 'backup.taken',
      subject,
      details: {
        key: taken.key,
        bytes: taken.bytes,
        sha256: taken.sha256,
        source: taken.source,
        tables: Object.keys(taken.tables).length,
        readBack: taken.readBack.detail,
      },
    },
    options.clock,
  );
  const rows = Object.values(taken.tables).reduce((sum, n) => sum + n, 0);
  const summary = `${taken.where}: ${taken.bytes} bytes of ${taken.source} in ${formatDuration(taken.seconds)}, ${Object.keys(taken.tables).length} tables (${rows} rows) counted; SHA-256 ${taken.sha256.slice(0, 16)}…; ${taken.readBack.detail}`;
  const deleted: string[] = [];
  let retention = '';
  try {
    const plan = await planRetention(service, providers.backups!, options.clock());
    if (plan && plan.delete.length > 0) {
      for (const key of plan.delete) {
        await recordAuditEvent(
          db,
          {
            actor: options.actor,
            action: 'backup.deleted',
            subject,
            details: { key, why: 'retention' },
          },
          options.clock,
        );
        await providers.backups!.deleteBackup(key);
        deleted.push(key);
      }
    }
    if (plan)
      retention = `; retention: ${deleted.length} deleted, ${plan.kept} kept${plan.notOurs.length > 0 ? ` (${plan.notOurs.length} not taken by lifeboat, never deleted)` : ''}`;
  } catch (error) {
    if (!isLifeboatError(error)) throw error;
    return result({
      ok: false,
      summary: `${summary}; retention failed after ${deleted.length} deleted: ${error.message}`,
      state: 'retention failed',
      taken,
      deleted,
    });
  }
  return result({
    ok: true,
    summary: summary + retention,
    state: taken.readBack.verified ? 'ok' : 'ok, not all checked',
    taken,
    deleted,
  });
}

/** An RDS service's backup: a snapshot, copied to the DR region; audited like a dump. */
async function takeRdsSnapshot(
  service: Service,
  providers: ServiceProviders,
  db: Sql,
  options: Parameters<typeof takeBackups>[3],
): Promise<TakeResult> {
  const subject = `service:${service.name}`;
  const at = options.clock().toISOString();
  const base = { check: 'backup-take', service: service.name, at, taken: null, deleted: [] };
  try {
    const snapshot = await takeSnapshot(service, providers, {
      clock: options.clock,
      onProgress: (text) => options.onProgress?.(service.name, text),
    });
    await recordAuditEvent(
      db,
      {
        actor: options.actor,
        action: 'backup.taken',
        subject,
        details: {
          snapshot: snapshot.taken.id,
          region: snapshot.taken.region,
          copy: snapshot.copy?.id ?? null,
          copyRegion: snapshot.copy?.region ?? null,
        },
      },
      options.clock,
    );
    return { ...base, ok: true, summary: describeSnapshotTaken(snapshot), state: 'ok' };
  } catch (error) {
    return { ...base, ...(await failed(error, db, subject, options)) };
  }
}

/** A backup that could not be taken: in the audit log, and the result's words. Bugs rethrown. */
async function failed(
  error: unknown,
  db: Sql,
  subject: string,
  options: Parameters<typeof takeBackups>[3],
): Promise<{ ok: false; summary: string; state: 'failed' }> {
  if (!isLifeboatError(error)) throw error;
  await recordAuditEvent(
    db,
    { actor: options.actor, action: 'backup.failed', subject, details: { reason: error.message } },
    options.clock,
  );
  return { ok: false, summary: error.message, state: 'failed' };
}
