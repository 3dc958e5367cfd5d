// backup.verify: the newest backup under the prefix — is it fresh (max_age, and against the RPO),
// not shrunken (a drop of more than half from the previous one is an alarm), with its checksum
// when the store keeps one; after a promotion in the same run, taken after it (of the new primary).

import { formatDuration } from '../../duration.js';
import { ProviderError } from '../../errors.js';
import type { BackupObject, BackupStore } from '../../providers/types.js';
import type { Service } from '../../config.js';
import type { Action, ActionContext } from '../types.js';
import { backupTakenAt } from './taken-at.js';

export interface BackupAssessment {
  ok: boolean;
  problems: string[];
  notes: string[];
  newest: BackupObject | null;
  previous: BackupObject | null;
  ageSeconds: number | null;
  /** Where the backups live against the primary, and their replication: "in us-west-2, …". */
  placement: string[];
}

/** Pure: judges a listing (newest first) against the service's limits. */
export function assessBackups(
  backups: BackupObject[],
  limits: { maxAgeSeconds: number; rpoSeconds: number },
  now: Date,
): BackupAssessment {
  const [newest = null, previous = null] = backups;
  if (!newest)
    return {
      ok: false,
      problems: ['no backups found'],
      notes: [],
      newest,
      previous,
      ageSeconds: null,
      placement: [],
    };
  const problems: string[] = [];
  const notes: string[] = [];
  const ageSeconds = Math.max(0, (now.getTime() - newest.lastModified.getTime()) / 1000);
  if (ageSeconds > limits.maxAgeSeconds) {
    problems.push(
      `newest backup is ${formatDuration(ageSeconds)} old, older than max_age ${formatDuration(limits.maxAgeSeconds)}`,
    );
  }
  if (ageSeconds > limits.rpoSeconds) {
    notes.push(
      `restoring it alone would lose ${formatDuration(ageSeconds)} of data (RPO ${formatDuration(limits.rpoSeconds)}): the RPO rests on replication`,
    );
  }
  if (newest.size === 0) problems.push('newest backup is empty (0 bytes)');
  else if (previous && newest.size < previous.size / 2) {
    problems.push(
      `newest backup is ${newest.size} bytes, less than half of the previous one (${previous.size} bytes)`,
    );
  }
  notes.push(
    newest.checksum
      ? `checksum ${newest.checksum}`
      : 'the store keeps no checksum for it (only an ETag)',
  );
  return {
    ok: problems.length === 0,
    problems,
    notes,
    newest,
    previous,
    ageSeconds,
    placement: [],
  };
}

/** A replication still PENDING after this long is not going to be there when it is needed. */
const REPLICATION_GRACE_SECONDS = 3600;

/**
 * Lists the store, reads the newest object's own metadata (the listing has no checksums), judges —
 * and, when the primary's AWS region is known, where the backups live: in the primary's region
 * they go down with it (the seed's mistake 2), unless S3 has replicated the newest one elsewhere.
 */
export async function assessNewestBackup(
  store: BackupStore,
  limits: { maxAgeSeconds: number; rpoSeconds: number },
  now: Date,
  primaryRegion: string | null = null,
): Promise<BackupAssessment> {
  const listing = await store.listBackups();
  if (listing[0]) listing[0] = { ...listing[0], ...(await store.headBackup(listing[0].key)) };
  const assessment = assessBackups(listing, limits, now);
  const newest = assessment.newest;
  if (!newest) return assessment;
  const replication = newest.replication ?? null;
  const age = assessment.ageSeconds ?? 0;
  if (replication === 'FAILED')
    assessment.problems.push(`S3 could not replicate ${newest.key} to the other region (FAILED)`);
  else if (replication === 'PENDING' && age > REPLICATION_GRACE_SECONDS)
    assessment.problems.push(
      `${newest.key} is still not replicated to the other region ${formatDuration(age)} after it was written (PENDING)`,
    );
  else if (replication === 'COMPLETED') {
    const copy = await replicaCopy(store, newest);
    if ('problem' in copy) assessment.problems.push(copy.problem);
    else assessment.placement.push(copy.fact);
  }
  if (primaryRegion) {
    const region = await store.region();
    if (region === null)
      assessment.placement.push('not an AWS store: its region not compared with the primary');
    else if (region !== primaryRegion)
      assessment.placement.push(`in ${region}, away from the primary (${primaryRegion})`);
    else if (replication !== 'COMPLETED' && replication !== 'REPLICA')
      assessment.problems.push(
        `backups are in ${region} with the primary: a regional disaster takes both — replicate them to another region (S3 cross-region replication) and check the copy`,
      );
  }
  assessment.ok = assessment.problems.length === 0;
  assessment.notes.push(...assessment.placement);
  return assessment;
}

/**
 * S3 says the newest backup is replicated: the copy itself, read where the bucket's replication
 * rule puts it — there, and the same size, or it is not a copy to restore from.
 */
async function replicaCopy(
  store: BackupStore,
  newest: BackupObject,
): Promise<{ fact: string } | { problem: string }> {
  let replica: Awaited<ReturnType<BackupStore['replicaOf']>>;
  try {
    replica = await store.replicaOf(newest.key);
  } catch (error) {
    return { fact: `replicated (COMPLETED); the copy not read: ${(error as Error).message}` };
  }
  if (!replica)
    return { fact: 'replicated (COMPLETED); no replication rule of the bucket names where to' };
  const where = `s3://${replica.bucket}/${newest.key}`;
  if (!replica.copy)
    return {
      problem: `S3 says ${newest.key} is replicated (COMPLETED), but ${where} does not exist`,
    };
  if (replica.copy.size !== newest.size)
    return {
      problem: `the copy ${where} holds ${replica.copy.size} bytes, the backup ${newest.size}`,
    };
  return { fact: `replicated to ${where}, the same ${newest.size} bytes` };
}

/** The primary's AWS region, where the config says it (RDS, Aurora); null for self-managed. */
export function primaryRegionOf(service: { database: Service['database'] }): string | null {
  return service.database.provider === 'postgres' ? null : service.database.primary.region;
}

export const backupVerify: Action = {
  name: 'backup.verify',
  skipReason: (context) =>
    context.providers.backups && context.service?.backups ? null : noBackups(context),
  plan: (context) =>
    context.providers.backups
      ? `Check the newest backup in ${context.providers.backups.name}: age against max_age and the RPO, size against the previous backup${context.earlier('db.promote')?.state === 'done' ? ', taken after the promotion' : ''}. Read-only.`
      : noBackups(context),
  async run(context) {
    const store = context.providers.backups;
    const backups = context.service?.backups;
    if (!store || !backups || !context.service)
      throw new ProviderError(context.run.id, noBackups(context), true);
    const assessment = await assessNewestBackup(
      store,
      { maxAgeSeconds: backups.maxAgeSeconds, rpoSeconds: context.service.rpoSeconds },
      context.clock(),
      primaryRegionOf(context.service),
    );
    if (!assessment.ok) throw new ProviderError(store.name, assessment.problems.join('; '), true);
    const newest = assessment.newest!;
    // After a promotion in this run, a backup from before it is a backup of the old primary.
    const promoted = context.earlier('db.promote');
    const notes = [...assessment.notes];
    if (promoted?.state === 'done' && promoted.finishedAt) {
      const at = new Date(promoted.finishedAt);
      const order = await orderAgainst(store, newest, at);
      if (order.before)
        throw new ProviderError(
          store.name,
          `the newest backup, ${newest.key} (${order.when}), is from before the promotion at ${promoted.finishedAt}: it is a backup of the old primary. Take a fresh backup of the new primary, then retry`,
          true,
        );
      if (order.note) notes.push(order.note);
    }
    return {
      summary: `newest backup ${newest.key}: ${newest.size} bytes, ${formatDuration(assessment.ageSeconds ?? 0)} old; ${notes.join('; ')}`,
      details: {
        key: newest.key,
        size: newest.size,
        ageSeconds: assessment.ageSeconds,
        checksum: newest.checksum,
      },
    };
  },
};

/**
 * Whether a backup was taken before `promotedAt`. lifeboat's own manifest says when the dump
 * started, to the millisecond. Without one, the store's date is when the upload ended — and S3
 * keeps whole seconds: an object dated 14:34:14 ended at some moment of that second, so a
 * promotion at 14:34:14.118 cannot be put before or after it. Only an object dated a whole
 * second before the promotion is surely older; one from the same second counts as after it, and
 * the step says so.
 */
async function orderAgainst(
  store: BackupStore,
  backup: BackupObject,
  promotedAt: Date,
): Promise<{ before: boolean; when: string; note?: string }> {
  const { manifest, unread } = await store.readManifest(backup.key).then(
    (found) => ({ manifest: found, unread: null }),
    (error: Error) => ({
      manifest: null,
      unread: `its manifest could not be read (${error.message}), so it is judged by the store's date`,
    }),
  );
  const taken = backupTakenAt(backup, manifest);
  if (manifest)
    return {
      before: taken.at < promotedAt,
      when: `its dump started ${manifest.startedAt}`,
      note: `dumped from ${manifest.source}, starting after the promotion`,
    };
  const stored = taken.at.toISOString();
  const when = `${stored}${unread ? `; ${unread}` : ''}`;
  const ended = taken.at.getTime();
  const wholeSeconds = ended % 1000 === 0;
  const latest = wholeSeconds ? ended + 999 : ended;
  if (latest < promotedAt.getTime()) return { before: true, when };
  if (ended < promotedAt.getTime())
    return {
      before: false,
      when,
      note: `stored in the second of the promotion (${stored}: the store keeps whole seconds), so counted as after it${unread ? `; ${unread}` : ''}`,
    };
  return { before: false, when, ...(unread ? { note: unread } : {}) };
}

function noBackups(context: ActionContext): string {
  return `${context.service ? `Service ${context.service.name}` : 'This run'} has no backups: in lifeboat.yml, so this step is skipped.`;
}
