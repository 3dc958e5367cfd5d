// RDS snapshots as backups: taken (CreateDBSnapshot, waited on until available), copied to the DR
// region (CopyDBSnapshot, read in the DR region until available — the seed's mistake 2 is a backup
// that lives with the primary), and listed where they are, newest first.

import type { DBInstance, DBSnapshot, RDSClient } from '@aws-sdk/client-rds';
import { ProviderError } from '../../errors.js';
import { pollUntil } from '../progress.js';
import type { OnProgress, Snapshot, SnapshotStore } from '../types.js';
import { withAwsRetry } from './retry.js';
import { rdsSdk } from './sdk.js';

export interface SnapshotDeps {
  rds: (region: string) => RDSClient;
  clock: () => Date;
  sleep: (ms: number) => Promise<void>;
  pollSeconds: number;
  maxWaitSeconds: number;
  /** The DR region's KMS key for copies of encrypted snapshots. */
  kmsKeyId?: string;
}

function toSnapshot(found: DBSnapshot, region: string): Snapshot {
  return {
    id: found.DBSnapshotIdentifier ?? '',
    arn: found.DBSnapshotArn ?? '',
    instance: found.DBInstanceIdentifier ?? '',
    region,
    status: found.Status ?? 'unknown',
    takenAt: found.OriginalSnapshotCreateTime ?? found.SnapshotCreateTime ?? new Date(0),
    type: found.SnapshotType ?? 'unknown',
  };
}

/** The snapshots of `instance` in `region` (automated and manual), newest first. */
export async function listSnapshots(
  deps: Pick<SnapshotDeps, 'rds'>,
  instance: string,
  region: string,
): Promise<Snapshot[]> {
  const snapshots: Snapshot[] = [];
  let marker: string | undefined;
  do {
    const page = await withAwsRetry(`RDS snapshots of ${instance} (${region})`, () =>
      deps.rds(region).send(
        new (rdsSdk().DescribeDBSnapshotsCommand)({
          DBInstanceIdentifier: instance,
          Marker: marker,
        }),
      ),
    );
    snapshots.push(...(page.DBSnapshots ?? []).map((found) => toSnapshot(found, region)));
    marker = page.Marker;
  } while (marker);
  return snapshots.sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
}

function waitAvailable(
  deps: SnapshotDeps,
  region: string,
  id: string,
  onProgress?: OnProgress,
): Promise<Snapshot> {
  return pollUntil({
    resource: `RDS snapshot ${id} (${region})`,
    waitingFor: 'available',
    look: async () => {
      const { DBSnapshots } = await deps
        .rds(region)
        .send(new (rdsSdk().DescribeDBSnapshotsCommand)({ DBSnapshotIdentifier: id }));
      const found = DBSnapshots?.[0];
      if (!found) throw new ProviderError(`RDS snapshot ${id} (${region})`, 'is gone', true);
      if (found.Status === 'failed' || found.Status === 'incompatible-restore')
        throw new ProviderError(`RDS snapshot ${id} (${region})`, `is ${found.Status}`, true);
      return {
        done: found.Status === 'available' ? toSnapshot(found, region) : null,
        status: `${found.Status ?? 'unknown'}${found.PercentProgress !== undefined ? ` ${found.PercentProgress}%` : ''}`,
      };
    },
    maxWaitSeconds: deps.maxWaitSeconds,
    pollMs: deps.pollSeconds * 1000,
    clock: deps.clock,
    sleep: deps.sleep,
    onProgress,
  });
}

/** CreateDBSnapshot of `instance`, named `id`, then wait until it is available. */
export async function createSnapshot(
  deps: SnapshotDeps,
  instance: { id: string; region: string },
  id: string,
  onProgress?: OnProgress,
): Promise<Snapshot> {
  await withAwsRetry(`RDS ${instance.id} (${instance.region})`, () =>
    deps.rds(instance.region).send(
      new (rdsSdk().CreateDBSnapshotCommand)({
        DBInstanceIdentifier: instance.id,
        DBSnapshotIdentifier: id,
        Tags: [{ Key: 'taken-by', Value: 'lifeboat' }],
      }),
    ),
  );
  return waitAvailable(deps, instance.region, id, onProgress);
}

/** CopyDBSnapshot of `source` into `region` as `id` (tags copied), then wait there. */
export async function copySnapshot(
  deps: SnapshotDeps,
  source: Snapshot,
  region: string,
  id: string,
  onProgress?: OnProgress,
): Promise<Snapshot> {
  await withAwsRetry(`RDS snapshot ${source.id} (${source.region})`, () =>
    deps.rds(region).send(
      new (rdsSdk().CopyDBSnapshotCommand)({
        SourceDBSnapshotIdentifier: source.arn,
        TargetDBSnapshotIdentifier: id,
        CopyTags: true,
        // An encrypted snapshot is copied under a key of the DR region.
        ...(deps.kmsKeyId ? { KmsKeyId: deps.kmsKeyId } : {}),
      }),
    ),
  );
  return waitAvailable(deps, region, id, onProgress);
}

export function createSnapshotStore(
  database: { primary: { id: string; region: string }; replica: { id: string; region: string } },
  copyTo: string | undefined,
  deps: SnapshotDeps,
): SnapshotStore {
  const drRegion = copyTo ?? database.replica.region;
  const instances = [...new Set([database.primary.id, database.replica.id])];
  const store: SnapshotStore = {
    primaryRegion: database.primary.region,
    drRegion,
    async list(region) {
      const lists = await Promise.all(instances.map((id) => listSnapshots(deps, id, region)));
      return lists.flat().sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
    },
    async take(instance, at, onProgress) {
      const stamp = at.toISOString().slice(0, 19).replace(/[-:T]/g, '');
      const taken = await createSnapshot(
        deps,
        instance,
        `lifeboat-${instance.id}-${stamp}`,
        onProgress,
      );
      const copy = taken.region === drRegion ? null : await store.copyToDr(taken, onProgress);
      return { taken, copy };
    },
    async restore(source, id, onProgress) {
      const name = `RDS ${id} (${source.region})`;
      const existing = await describeInstance(deps, source.region, id);
      if (
        existing &&
        !existing.TagList?.some((tag) => tag.Key === 'restored-from' && tag.Value === source.id)
      )
        throw new ProviderError(
          name,
          'already exists and was not restored from this snapshot by lifeboat: restoring over it is not possible — delete it, or name another instance in database.replica',
          true,
        );
      if (!existing)
        await withAwsRetry(name, () =>
          deps.rds(source.region).send(
            new (rdsSdk().RestoreDBInstanceFromDBSnapshotCommand)({
              DBInstanceIdentifier: id,
              DBSnapshotIdentifier: source.id,
              Tags: [
                { Key: 'taken-by', Value: 'lifeboat' },
                { Key: 'restored-from', Value: source.id },
              ],
            }),
          ),
        );
      const ready = await pollUntil({
        resource: name,
        waitingFor: 'available',
        look: async () => {
          const found = await describeInstance(deps, source.region, id);
          const status = found?.DBInstanceStatus ?? 'not there yet';
          if (status === 'failed' || status === 'incompatible-restore')
            throw new ProviderError(name, `the restore is ${status}`, true);
          return { done: status === 'available' ? found! : null, status };
        },
        maxWaitSeconds: deps.maxWaitSeconds,
        pollMs: deps.pollSeconds * 1000,
        clock: deps.clock,
        sleep: deps.sleep,
        onProgress,
      });
      return { endpoint: ready.Endpoint?.Address ?? '' };
    },
    async copyToDr(source, onProgress) {
      if (source.region === drRegion) return source;
      // The identifier RDS accepts: letters, digits and single hyphens (an automated snapshot's
      // "rds:" prefix is not one).
      const id = source.id
        .replace(/^rds:/, '')
        .replace(/[^A-Za-z0-9-]/g, '-')
        .replace(/-+/g, '-');
      const there = (await listSnapshots(deps, source.instance, drRegion)).find(
        (snapshot) => snapshot.id === id,
      );
      if (there?.status === 'available') return there;
      return copySnapshot(deps, source, drRegion, id, onProgress);
    },
  };
  return store;
}

async function describeInstance(
  deps: Pick<SnapshotDeps, 'rds'>,
  region: string,
  id: string,
): Promise<DBInstance | null> {
  try {
    const { DBInstances } = await deps
      .rds(region)
      .send(new (rdsSdk().DescribeDBInstancesCommand)({ DBInstanceIdentifier: id }));
    return DBInstances?.[0] ?? null;
  } catch (error) {
    if ((error as { name?: string }).name === 'DBInstanceNotFoundFault') return null;
    throw error;
  }
}
