// What actions ask of infrastructure. Providers implement these for PostgreSQL and AWS; actions
// never know which one they talk to.

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
  detail: string;
}

export interface PromotionResult {
  alreadyPrimary: boolean;
  detail: string;
}

export interface DatabaseProvider {
  /** The database that would be promoted, as people name it: "replica 127.0.0.1:5433". */
  readonly targetName: string;
  readonly sourceName: string;
  measureLag(): Promise<LagMeasurement>;
  /** Refuses (ProviderError, permanent) when the target cannot be promoted right now. */
  preflight(): Promise<void>;
  /** Idempotent: a target that is already primary is success. */
  promote(): Promise<PromotionResult>;
  isTargetPrimary(): Promise<boolean>;
  /** Writes a row to a lifeboat-owned table on the target and reads it back. */
  verifyWritable(token: string): Promise<{ detail: string }>;
  /** The host name clients should use after promotion (for DNS). */
  targetEndpoint(): Promise<string>;
}

export interface DnsProvider {
  readonly name: string;
  describeSwitch(endpoint: string): string;
  /** Idempotent: pointing the record where it already points is success. */
  switchTo(endpoint: string): Promise<{ detail: string }>;
  /** True when the record (or routing control) already points at `endpoint`. */
  pointsAt(endpoint: string): Promise<{ ok: boolean; summary: string }>;
}

export interface BackupObject {
  key: string;
  size: number;
  lastModified: Date;
  etag: string | null;
  checksum: string | null;
}

export interface BackupStore {
  readonly name: string;
  /** Every backup under the prefix, newest first. */
  listBackups(): Promise<BackupObject[]>;
  headBackup(key: string): Promise<BackupObject>;
  /** Streams one backup to `file` (never whole into memory); returns the bytes written. */
  downloadBackup(key: string, file: string): Promise<number>;
}
