// What actions ask of infrastructure. Providers implement these for PostgreSQL and AWS; actions
// never know which one they talk to.

/** Hears how a long wait goes: "RDS production-dr (us-west-2) promoting: modifying, 1m 15s so far". */
export type OnProgress = (text: string) => void;

/** The two databases of a service, as lifeboat.yml names them. */
export type NodeName = 'primary' | 'replica';

export function otherNode(node: NodeName): NodeName {
  return node === 'primary' ? 'replica' : 'primary';
}

/**
 * What a database is right now: accepting writes, a primary that refuses them (fenced: read-only
 * or cut off), a standby replaying WAL, or not answering.
 */
export type NodeRole = 'writable' | 'fenced' | 'standby' | 'unreachable';

export interface NodeProbe {
  node: NodeName;
  /** How people name it: "primary 127.0.0.1:5432", "RDS production-dr (us-west-2)". */
  name: string;
  role: NodeRole;
  /** A standby receiving WAL right now. */
  streaming: boolean;
  /** The node a streaming standby follows, when that can be told; null when unknown. */
  streamingFrom: NodeName | null;
  /** A writer's current WAL position, a standby's replayed one (PostgreSQL); null when unknown. */
  walLsn: string | null;
  detail: string;
}

export interface FenceResult {
  /**
   * fenced: it refuses writes now (made so by this call, or already); unreachable: it did not
   * answer, so nothing could be done or checked; standby: a standby has nothing to fence.
   */
  state: 'fenced' | 'unreachable' | 'standby';
  /** The WAL position at the moment it was fenced (PostgreSQL), else null. */
  finalLsn: string | null;
  /** Client sessions ended by the fence. */
  sessionsEnded: number;
  detail: string;
}

export interface ReplicaStatus {
  /** The standby streams from the writer, with lag within `rpoSeconds`. */
  ok: boolean;
  lagSeconds: number | null;
  lagBytes: number | null;
  detail: string;
}

/** How a standby is rebuilt: by lifeboat (RDS read replica) or by a person following commands. */
export type ReplicaRebuild =
  | { mode: 'manual'; instructions(standby: NodeName, writer: NodeName): string }
  | {
      mode: 'automatic';
      describe(standby: NodeName, writer: NodeName): string;
      run(
        standby: NodeName,
        writer: NodeName,
        options?: { onProgress?: OnProgress },
      ): Promise<{ detail: string }>;
    };

export interface LagMeasurement {
  /** Seconds of committed data the target would lose if promoted now; null when unknowable. */
  lagSeconds: number | null;
  /** WAL bytes the target has not replayed yet; null when unknowable. */
  lagBytes: number | null;
  /** Where the numbers come from: the primary (it answered) or the replica alone (it did not). */
  source: 'primary' | 'replica';
  primaryReachable: boolean;
  /** False when the target is no longer a replica (already promoted). */
  targetIsReplica: boolean;
  /**
   * exact: nothing more can be lost than measured (the primary refuses writes, or was fenced at
   * the LSN compared); lower-bound: the primary is unreachable or still writing, so more may be.
   */
  bound: 'exact' | 'lower-bound';
  detail: string;
}

/** The lag of a target that is no replica at all (already a primary): nothing to lose by it. */
export function notAReplica(detail: string): LagMeasurement {
  return {
    lagSeconds: 0,
    lagBytes: 0,
    source: 'replica',
    primaryReachable: false,
    targetIsReplica: false,
    bound: 'exact',
    detail,
  };
}

export interface PromotionResult {
  alreadyPrimary: boolean;
  detail: string;
}

/** Why a node is probed: to show it (`status`), or to decide something on what it is. */
export type ProbePurpose = 'status' | 'decision';

export interface DatabaseProvider {
  /** The node a run of this direction promotes, and the writer it takes over from. */
  readonly target: NodeName;
  readonly source: NodeName;
  /** The database that would be promoted, as people name it: "replica 127.0.0.1:5433". */
  readonly targetName: string;
  readonly sourceName: string;
  nameOf(node: NodeName): string;
  /**
   * What `node` is right now. Never throws for a node that does not answer: `unreachable`. A
   * `status` look gives up after the service's probe_timeout (1 s by default), so a status never
   * waits long on a database that hangs; a decision (the default: gates, fences, promotions) waits
   * longer, since a slow primary taken for a dead one would pass the fence gate.
   */
  probe(node: NodeName, purpose?: ProbePurpose): Promise<NodeProbe>;
  /** One sentence: how `node` would be fenced (for plans). */
  describeFence(node: NodeName): string;
  /** Why lifeboat does not fence this service's databases (turned off in the config), or null. */
  fenceDisabled(): string | null;
  /**
   * The promotion itself demotes the old writer (Aurora Global Database's switchover and failover):
   * there is no separate fence, and the fence gate does not wait for one.
   */
  readonly promotionFences?: boolean;
  /** How the promotion is done, for the plan a second person approves (when it is not obvious). */
  describePromotion?(): string;
  /**
   * What unfence() will need to undo a fence of `node` (RDS: its security groups), read before
   * the fence and committed with the step, so a crash mid-fence loses nothing. Never throws.
   */
  beforeFence(node: NodeName): Promise<Record<string, unknown>>;
  /** Makes `node` refuse writes and checks that it does. Idempotent. Long waits tell `onProgress`. */
  fence(node: NodeName, options?: { onProgress?: OnProgress }): Promise<FenceResult>;
  /** Undoes fence(): `node` accepts writes again (a switchover stopped before promotion). */
  unfence(node: NodeName, saved: Record<string, unknown>): Promise<{ detail: string }>;
  /**
   * Waits until the standby `node` has replayed WAL up to `lsn` (a fenced primary's final
   * position), reporting progress; a ProviderError after `timeoutMs`.
   */
  waitForReplay(
    node: NodeName,
    lsn: string | null,
    options: { timeoutMs: number; since?: Date; onProgress?: OnProgress },
  ): Promise<{ replayLsn: string; detail: string }>;
  /** Whether `standby` streams from `writer`, and how far behind it is. */
  replicaStatus(standby: NodeName, writer: NodeName, rpoSeconds: number): Promise<ReplicaStatus>;
  readonly rebuild: ReplicaRebuild;
  /** Lag of the target behind the source; with `fencedAt`, against that LSN instead of the live one. */
  measureLag(options?: { fencedAt?: string | null }): Promise<LagMeasurement>;
  /** Refuses (ProviderError, permanent) when the target cannot be promoted right now. */
  preflight(): Promise<void>;
  /**
   * Idempotent: a target that is already primary is success. A promotion that takes minutes
   * (RDS) tells `onProgress` what it waits for, at least every 15 s.
   */
  promote(options?: { onProgress?: OnProgress }): Promise<PromotionResult>;
  isTargetPrimary(): Promise<boolean>;
  /** Writes a row to a lifeboat-owned table on the target and reads it back. */
  verifyWritable(token: string): Promise<{ detail: string }>;
  /** The host name clients should use after promotion (for DNS). */
  targetEndpoint(): Promise<string>;
  /**
   * Pilot light: gives `node` a bigger instance class and waits until it runs as one. Absent where
   * lifeboat cannot resize the database (self-managed PostgreSQL).
   */
  scaleUp?(
    node: NodeName,
    instanceClass: string,
    options?: { onProgress?: OnProgress },
  ): Promise<{ detail: string }>;
  /** The instance class `node` runs as now (what db.scale-up's verify reads). */
  instanceClass?(node: NodeName): Promise<string | null>;
}

export interface DnsProvider {
  readonly name: string;
  describeSwitch(endpoint: string): string;
  /**
   * Idempotent: pointing the record where it already points is success. A change that takes a
   * while to be in effect tells `onProgress` what it waits for, at least every 15 s.
   */
  switchTo(endpoint: string, options?: { onProgress?: OnProgress }): Promise<{ detail: string }>;
  /** True when the record (or routing control) already points at `endpoint`. */
  pointsAt(endpoint: string): Promise<{ ok: boolean; summary: string }>;
  /**
   * Reads the record (or routing control) once, on a short budget, and says what it found: a
   * permanent ProviderError when the switch could only fail (no such zone, no permission), found
   * before a promotion.
   */
  check(): Promise<string>;
  /**
   * The calls a switch makes that change something, each with the resource it changes, in
   * `partition` (aws, aws-us-gov, aws-cn): what IAM's policy simulator is asked before a disaster.
   */
  writeAsks?(partition: string): Promise<PermissionAsk[]>;
}

/** One permission a step needs: an IAM action on one resource ARN. */
export interface PermissionAsk {
  action: string;
  resource: string;
}

export interface BackupObject {
  key: string;
  size: number;
  lastModified: Date;
  etag: string | null;
  checksum: string | null;
  /**
   * S3 cross-region replication of this object (HeadObject's ReplicationStatus: COMPLETED,
   * PENDING, FAILED, or REPLICA for the copy itself); null when the bucket does not replicate it.
   */
  replication?: string | null;
}

/**
 * What lifeboat writes beside a backup it took (`KEY.lifeboat.json`): the bytes' SHA-256 computed
 * while streaming, and each table's rows counted in the very snapshot pg_dump dumped — what a
 * restore test checks the download and the restored copy against.
 */
export interface BackupManifest {
  format: 'lifeboat-backup/1';
  service: string;
  key: string;
  /** How: `pg_dump -Fc`. */
  tool: string;
  /** Which server was dumped, as messages name it (no password). */
  source: string;
  startedAt: string;
  finishedAt: string;
  bytes: number;
  /** SHA-256 of the whole object, hex. */
  sha256: string;
  /** Rows per table ("schema.table") in the dump's snapshot. */
  tables: Record<string, number>;
  lifeboatVersion: string;
}

/** Where lifeboat keeps a backup's manifest: beside it, never counted as a backup. */
export const MANIFEST_SUFFIX = '.lifeboat.json';

export interface BackupUpload {
  bytes: number;
  /** SHA-256 of everything uploaded, hex. */
  sha256: string;
  parts: number;
  /** What the store reported back after the upload, compared with what was sent. */
  readBack: { verified: boolean; detail: string };
}

export interface BackupDownload {
  bytes: number;
  /** The manifest lifeboat wrote when it took this backup; null for a backup taken otherwise. */
  manifest?: BackupManifest | null;
  /** How the bytes were checked against the store's own record of them, or why they could not be. */
  integrity:
    | { verified: true; method: 'sha256' | 'md5-etag'; detail: string }
    | { verified: false; method: null; detail: string };
}

export interface BackupStore {
  readonly name: string;
  /** Every backup under the prefix, newest first. */
  listBackups(): Promise<BackupObject[]>;
  headBackup(key: string): Promise<BackupObject>;
  /**
   * The AWS region the backups live in (S3's GetBucketLocation), or null for a store that is not
   * AWS (an S3-compatible endpoint): where a regional disaster would take them with it.
   */
  region(): Promise<string | null>;
  /**
   * Where S3 cross-region replication puts `key` (the bucket's replication rule that covers it),
   * and that copy as the destination holds it: null when no rule covers the key; `copy` null when
   * the destination does not hold it.
   */
  replicaOf(key: string): Promise<{ bucket: string; copy: BackupObject | null } | null>;
  /**
   * Streams one backup to `file` (never whole into memory), hashing it on the way, and checks the
   * bytes against what the store says it holds (its SHA-256 checksum, else a single-part MD5
   * ETag). A mismatch is a ProviderError; a store that gives nothing to compare with says so.
   */
  downloadBackup(key: string, file: string): Promise<BackupDownload>;
  /**
   * Keeps a small record outside lifeboat's own database (the audit log's head hash), under
   * lifeboat-audit/ in the bucket — never among the backups. Returns where it went.
   */
  putAnchor(name: string, body: string): Promise<string>;
  /**
   * Streams `body` into `key` (multipart above one part, so never whole in memory), hashing it on
   * the way, then reads the object's size and checksum back from the store and compares them with
   * what was sent: a mismatch is a ChecksumMismatch and the object is deleted.
   */
  uploadBackup(
    key: string,
    body: AsyncIterable<Uint8Array>,
    options?: { partBytes?: number; minPartBytes?: number; onProgress?: (bytes: number) => void },
  ): Promise<BackupUpload>;
  /** The manifest lifeboat wrote beside `key`, or null when there is none. */
  readManifest(key: string): Promise<BackupManifest | null>;
  writeManifest(manifest: BackupManifest): Promise<void>;
  /** Deletes a backup and its manifest (retention). */
  deleteBackup(key: string): Promise<void>;
}

/** Where audit anchors go in a backups bucket; listBackups never counts them. */
export const ANCHOR_PREFIX = 'lifeboat-audit/';

/** The providers of one service, as one run uses them; null where the service has none. */
/** The application tier a pilot light scales up: an Auto Scaling group in the DR region. */
export interface AppScaling {
  readonly name: string;
  /** The instances that carry the full load. */
  readonly desired: number;
  state(): Promise<{ desired: number; inService: number }>;
  /** SetDesiredCapacity to `desired`, then wait until that many are in service and healthy. */
  scaleUp(onProgress?: OnProgress): Promise<{ detail: string }>;
}

/** An RDS snapshot, where it is. */
export interface Snapshot {
  id: string;
  arn: string;
  /** The instance it is a snapshot of (a copy keeps its source's). */
  instance: string;
  region: string;
  status: string;
  /** When the data was taken (a copy keeps the original's time, where RDS says it). */
  takenAt: Date;
  type: string;
}

/** The snapshots of one RDS service: where its primary lives, and the DR region they must reach. */
export interface SnapshotStore {
  readonly primaryRegion: string;
  readonly drRegion: string;
  /** Snapshots of either of the service's instances in `region`, newest first. */
  list(region: string): Promise<Snapshot[]>;
  /** A snapshot of `instance`, named by `at`, then its copy in the DR region (unless it is there). */
  take(
    instance: { id: string; region: string },
    at: Date,
    onProgress?: OnProgress,
  ): Promise<{ taken: Snapshot; copy: Snapshot | null }>;
  /** A copy of `source` in the DR region (the same one when it is already there). */
  copyToDr(source: Snapshot, onProgress?: OnProgress): Promise<Snapshot>;
  /**
   * A new instance `id` in the snapshot's region made from it (RestoreDBInstanceFromDBSnapshot),
   * waited on until available; its endpoint. An instance already there made from this snapshot
   * (a resumed step) is waited on instead.
   */
  restore(source: Snapshot, id: string, onProgress?: OnProgress): Promise<{ endpoint: string }>;
}

export interface ServiceProviders {
  database: DatabaseProvider | null;
  dns: DnsProvider | null;
  backups: BackupStore | null;
  /** RDS snapshots of an aws-rds service with snapshots: configured. */
  snapshots?: SnapshotStore | null;
  /** The application tier of a pilot-light service (app_scaling:). */
  appScaling?: AppScaling | null;
}
