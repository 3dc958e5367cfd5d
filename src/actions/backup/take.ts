// Taking a backup, as the seed's script does and then some: a pg_dump of the node that takes
// writes now (never a guess: both are looked at, and TWO PRIMARIES or none refuses), streamed into
// the backups bucket while its SHA-256 is computed, read back, and a manifest written beside it with
// the checksum and every table's rows counted in the dump's own snapshot. Then retention: only
// backups lifeboat took (those with a manifest) are ever deleted, never the newest.

import type { Service } from '../../config.js';
import { formatDuration, parseDurationSeconds } from '../../duration.js';
import { ProviderError, UsageError } from '../../errors.js';
import { withPostgresDump } from '../../providers/postgres/dump.js';
import type {
  DatabaseProvider,
  BackupManifest,
  BackupStore,
  BackupUpload,
  NodeName,
  NodeProbe,
  ServiceProviders,
  Snapshot,
} from '../../providers/types.js';
import { VERSION } from '../../version.js';
import { classifyNodes } from '../db/classify-nodes.js';
import type { Action } from '../types.js';

export interface BackupTaken {
  key: string;
  where: string;
  source: string;
  bytes: number;
  sha256: string;
  parts: number;
  readBack: BackupUpload['readBack'];
  tables: Record<string, number>;
  startedAt: string;
  finishedAt: string;
  seconds: number;
}

/** Why `service` cannot have lifeboat take its backups, or null. */
export function cannotTakeBackup(service: Service): string | null {
  if (service.database.provider === 'aws-rds')
    return service.snapshots
      ? null
      : `${service.name} is on RDS: add snapshots: (max_age, copy_to) to it in lifeboat.yml to have lifeboat take RDS snapshots and copy them to the DR region`;
  if (service.database.provider !== 'postgres')
    return `${service.name}'s database is ${service.database.provider}: lifeboat takes pg_dump backups of self-managed PostgreSQL and snapshots of RDS instances (Aurora keeps its own)`;
  if (!service.backups) return `${service.name} has no backups: in lifeboat.yml`;
  return null;
}

export interface SnapshotTaken {
  taken: Snapshot;
  copy: Snapshot | null;
  source: string;
  seconds: number;
}

/**
 * An RDS snapshot of the instance that takes writes now (TWO PRIMARIES or none refuses), waited on
 * until available, then copied to the DR region and waited on there.
 */
export async function takeSnapshot(
  service: Service,
  providers: ServiceProviders,
  options: { clock: () => Date; onProgress?: (text: string) => void },
): Promise<SnapshotTaken> {
  const refused = cannotTakeBackup(service);
  if (refused) throw new UsageError(refused);
  const database = providers.database!;
  const { writer, source } = await writerToBackUp(service, database, 'a snapshot');
  const instance = (service.database as { primary: RdsInstanceRef; replica: RdsInstanceRef })[
    writer
  ];
  const started = performance.now();
  const { taken, copy } = await providers.snapshots!.take(
    instance,
    options.clock(),
    options.onProgress,
  );
  return {
    taken,
    copy,
    source,
    seconds: (performance.now() - started) / 1000,
  };
}

interface RdsInstanceRef {
  id: string;
  region: string;
}

/**
 * The node a backup or snapshot is taken of, looked at now: the writer (as the strategy sees
 * writers), or a refusal — TWO PRIMARIES, or none taking writes, is no state to back up.
 */
async function writerToBackUp(
  service: Service,
  database: DatabaseProvider,
  what: 'a backup' | 'a snapshot',
): Promise<{ writer: NodeName; source: string }> {
  const [primary, replica] = await Promise.all([
    database.probe('primary', 'decision'),
    database.probe('replica', 'decision'),
  ]);
  const { state, writer, detail } =
    service.strategy === 'backup-restore' || service.strategy === 'active-active'
      ? designedWriter(primary, replica)
      : classifyNodes(primary, replica);
  if (state === 'two-primaries')
    throw new ProviderError(
      service.name,
      `not taking ${what}: TWO PRIMARIES (${detail}) — which one holds the data must be settled first`,
      false,
    );
  if (!writer)
    throw new ProviderError(
      service.name,
      `not taking ${what}: no database accepts writes (${detail})`,
      false,
    );
  return { writer, source: writer === 'primary' ? primary.name : replica.name };
}

/**
 * Which node a backup is taken of where two nodes taking writes is the design — a backup-restore
 * DR server waiting for a restore, the other site of an active-active pair: the primary while it
 * takes writes; with it fenced or gone, the other one.
 */
function designedWriter(
  primary: NodeProbe,
  server: NodeProbe,
): { state: string; writer: NodeName | null; detail: string } {
  if (primary.role === 'writable')
    return { state: 'writer', writer: 'primary', detail: primary.detail };
  if (server.role === 'writable')
    return { state: 'writer', writer: 'replica', detail: server.detail };
  return { state: 'no-writer', writer: null, detail: `${primary.detail}; ${server.detail}` };
}

/** The object key of a backup taken at `at`: under the prefix, named by the time, sortable. */
export function backupKey(prefix: string, at: Date): string {
  return `${prefix}${at.toISOString().replace(/:/g, '-')}.dump`;
}

export async function takeBackup(
  service: Service,
  providers: ServiceProviders,
  options: {
    clock: () => Date;
    partBytes?: number;
    onProgress?: (text: string) => void;
  },
): Promise<BackupTaken> {
  const refused =
    cannotTakeBackup(service) ??
    (service.database.provider === 'postgres' ? null : `${service.name} is not dumped by pg_dump`);
  if (refused) throw new UsageError(refused);
  const database = providers.database!;
  const store = providers.backups!;
  const settings = service.database as { primary: string; replica: string };
  const { writer, source } = await writerToBackUp(service, database, 'a backup');
  const started = options.clock();
  const key = backupKey(service.backups!.prefix, started);
  const startedMs = performance.now();
  options.onProgress?.(`dumping ${source} into ${store.name}…`);
  const { upload, tables } = await withPostgresDump(
    { url: settings[writer], name: source },
    async (dump) => ({
      tables: dump.tables,
      upload: await store.uploadBackup(key, dump.stream, {
        // A test's small parts are below S3's minimum on purpose (s3rver takes any size).
        ...(options.partBytes
          ? { partBytes: options.partBytes, minPartBytes: options.partBytes }
          : {}),
        onProgress: (bytes) =>
          options.onProgress?.(`${(bytes / 1e6).toFixed(1)} MB of ${source} uploaded`),
      }),
    }),
  );
  const finished = options.clock();
  const manifest: BackupManifest = {
    format: 'lifeboat-backup/1',
    service: service.name,
    key,
    tool: 'pg_dump -Fc',
    source,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    bytes: upload.bytes,
    sha256: upload.sha256,
    tables,
    lifeboatVersion: VERSION,
  };
  try {
    await store.writeManifest(manifest);
  } catch (error) {
    throw new ProviderError(
      store.name,
      `the backup ${key} is in place (${upload.bytes} bytes, SHA-256 ${upload.sha256}) but its manifest could not be written: ${(error as Error).message}. Restore tests check it by the store's own checksum only.`,
      false,
    );
  }
  return {
    key,
    where: `${store.name}${key.slice(service.backups!.prefix.length)}`,
    source,
    bytes: upload.bytes,
    sha256: upload.sha256,
    parts: upload.parts,
    readBack: upload.readBack,
    tables,
    startedAt: manifest.startedAt,
    finishedAt: manifest.finishedAt,
    seconds: (performance.now() - startedMs) / 1000,
  };
}

export interface RetentionPlan {
  /** What retention deletes: backups lifeboat took, beyond the policy. */
  delete: string[];
  kept: number;
  /** Backups retention would have removed but that lifeboat did not take (no manifest): kept. */
  notOurs: string[];
}

/**
 * What retention would do now, without doing it: keep the newest `keep_last` backups and every
 * backup younger than `keep_within`; delete the rest that lifeboat took. Never the newest; null
 * without a retention policy.
 */
export async function planRetention(
  service: Service,
  store: BackupStore,
  now: Date,
): Promise<RetentionPlan | null> {
  const policy = service.backups?.retention;
  if (!policy) return null;
  const withinSeconds = policy.keep_within ? parseDurationSeconds(policy.keep_within)! : null;
  const listing = await store.listBackups();
  const plan: RetentionPlan = { delete: [], kept: 0, notOurs: [] };
  for (const [index, backup] of listing.entries()) {
    const ageSeconds = (now.getTime() - backup.lastModified.getTime()) / 1000;
    const keep =
      index === 0 ||
      (policy.keep_last !== undefined && index < policy.keep_last) ||
      (withinSeconds !== null && ageSeconds <= withinSeconds);
    if (keep) plan.kept += 1;
    else if (await store.readManifest(backup.key)) plan.delete.push(backup.key);
    else {
      plan.notOurs.push(backup.key);
      plan.kept += 1;
    }
  }
  return plan;
}

/**
 * `action: backup.take`: a backup of the database that takes writes now (after a promotion, the
 * new primary), as `lifeboat backup take` takes it — without retention, which the schedule and
 * the CLI apply. Creates a new object and changes nothing else, so no approval; running it again
 * after a crash takes another. Its verify reads the backup and its manifest back from the store.
 */
export const backupTake: Action = {
  name: 'backup.take',
  skipReason: (context) => {
    if (!context.service) return 'This run has no service to back up.';
    const cannot = cannotTakeBackup(context.service);
    return cannot && context.service.backups
      ? `${cannot}. Run the backup job for ${context.service.name} now: the next backup check of this run wants a backup taken after the promotion.`
      : cannot;
  },
  plan: (context) =>
    context.providers.snapshots
      ? `An RDS snapshot of the instance that takes writes now, waited on until available, then copied to ${context.providers.snapshots.drRegion} and waited on there. Creates a backup; changes nothing else.`
      : context.providers.backups
        ? `pg_dump the database that takes writes now into ${context.providers.backups.name}, streamed, its size and checksum read back, with a manifest of its SHA-256 and row counts. Creates a backup; changes nothing else.`
        : `${context.service?.name ?? 'This run'} has no backups: in lifeboat.yml.`,
  async run(context) {
    if (context.service!.database.provider === 'aws-rds') {
      const snapshot = await takeSnapshot(context.service!, context.providers, {
        clock: context.clock,
        onProgress: context.progress,
      });
      return {
        summary: describeSnapshotTaken(snapshot),
        details: {
          snapshot: snapshot.taken.id,
          region: snapshot.taken.region,
          copy: snapshot.copy?.id ?? null,
          copyRegion: snapshot.copy?.region ?? null,
        },
      };
    }
    const taken = await takeBackup(context.service!, context.providers, {
      clock: context.clock,
      onProgress: context.progress,
    });
    return {
      summary: `${taken.where}: ${taken.bytes} bytes of ${taken.source} in ${formatDuration(taken.seconds)}, ${Object.keys(taken.tables).length} tables counted; ${taken.readBack.detail}`,
      details: {
        key: taken.key,
        bytes: taken.bytes,
        sha256: taken.sha256,
        source: taken.source,
        tables: taken.tables,
      },
    };
  },
  async verify(context, outcome) {
    if (typeof outcome.details.snapshot === 'string') {
      const snapshots = context.providers.snapshots!;
      const details = outcome.details as {
        snapshot: string;
        region: string;
        copy: string | null;
        copyRegion: string | null;
      };
      const where = details.copyRegion ?? details.region;
      const id = details.copy ?? details.snapshot;
      const found = (await snapshots.list(where)).find((snapshot) => snapshot.id === id);
      return found?.status === 'available'
        ? { ok: true, summary: `snapshot ${id} is available in ${where}` }
        : { ok: false, summary: `snapshot ${id} is ${found?.status ?? 'not'} in ${where}` };
    }
    const store = context.providers.backups!;
    const key = outcome.details.key as string;
    const [object, manifest] = await Promise.all([store.headBackup(key), store.readManifest(key)]);
    if (!manifest) return { ok: false, summary: `${key} has no manifest in ${store.name}` };
    if (object.size !== manifest.bytes || manifest.sha256 !== outcome.details.sha256)
      return {
        ok: false,
        summary: `${key} holds ${object.size} bytes, its manifest says ${manifest.bytes} (SHA-256 ${manifest.sha256})`,
      };
    return {
      ok: true,
      summary: `${key} is in ${store.name}: ${object.size} bytes, as its manifest records`,
    };
  },
};

/** "RDS snapshot X of RDS p (us-east-1) available; copied to us-west-2 as X, available". */
export function describeSnapshotTaken(snapshot: SnapshotTaken): string {
  return `RDS snapshot ${snapshot.taken.id} of ${snapshot.source} available in ${formatDuration(snapshot.seconds)}${snapshot.copy ? `; copied to ${snapshot.copy.region} as ${snapshot.copy.id}, available there` : `; it is in the DR region (${snapshot.taken.region}) already`}`;
}
