// Local mode's world, under .lifeboat/: a PostgreSQL primary and streaming standby, an
// S3-compatible store (s3rver) holding a real pg_dump backup, and a lifeboat.yml pointing at all of
// it. A second start reuses what exists (same ports, same data); reset wipes it. Errors say what
// to do: binaries missing, a port taken, a .lifeboat/ from an incompatible version.

import { s3Sdk } from '../providers/aws/sdk.js';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { isDeepStrictEqual, promisify } from 'node:util';
import S3rver, { type S3rverOptions } from 's3rver';
import { ConfigError } from '../errors.js';
import { currentOsIdentity } from '../people.js';
import { createS3Client, S3RVER_CREDENTIALS } from '../providers/aws/s3.js';
import {
  PG_BIN,
  localServerArgs,
  assertBinaries,
  freePort,
  rebuildAsStandby,
  resumePostgresPair,
  roleOf,
  startPostgresPair,
  startStandaloneServer,
  stopServer,
  type PostgresPair,
  type PostgresServer,
} from '../providers/postgres/servers.js';
import { assertNotRunning } from './running.js';

const run = promisify(execFile);

/** Bumped when the layout of .lifeboat/ changes incompatibly. */
export const LOCAL_VERSION = 1;
export const LOCAL_BUCKET = 'lifeboat-local';
export const LOCAL_USERS = { requester: 'U0ALICE', approver: 'U0BOB' } as const;

interface LocalState {
  version: number;
  /** ledgerPrimary and ledgerDr: the backup-restore demo service's servers (absent before them). */
  ports: {
    primary: number;
    standby: number;
    s3: number;
    ledgerPrimary?: number;
    ledgerDr?: number;
  };
  /** Where the PostgreSQL data lives: dir/pg, or outside when the postgres user cannot reach dir. */
  pgRoot?: string;
  /** Set when the primary was killed on purpose: it stays down across restarts until rebuilt. */
  primaryDownSince?: string;
  /** Set while the demo app cannot reach the primary (which lives on): the partition scenario. */
  partitionedSince?: string;
}

export interface LocalEnvironment {
  dir: string;
  /** The PostgreSQL data's folder (under dir, or /var/tmp when postgres cannot reach dir). */
  pgRoot: string;
  configFile: string;
  /** Replaced by rebuildPair(). */
  pair: PostgresPair;
  s3Endpoint: string;
  /**
   * The second demo service, ledger-db, recovered by backup and restore: its primary and the DR
   * server a backup is restored into (database "ledger" in both).
   */
  ledger: { primary: PostgresServer; dr: PostgresServer };
  /** When the primary was killed (simulated disaster), until a rebuild. */
  primaryDownSince: Date | null;
  /** When the demo app lost the primary while it lives on (a partition), until a rebuild. */
  partitionedSince: Date | null;
  stop(): Promise<void>;
}

export interface LocalEnvironmentOptions {
  /** The demo application's health check, written into the config as the service's. */
  healthCheckUrl?: string;
  /** The OS account the break-glass CLI will act for (mapped to alice); default: this process's. */
  cliAccount?: string;
}

export async function startLocalEnvironment(
  dir: string,
  runbooksDir: string,
  options: LocalEnvironmentOptions = {},
): Promise<LocalEnvironment> {
  assertBinaries(); // before anything is written
  mkdirSync(dir, { recursive: true });
  const stateFile = path.join(dir, 'state.json');
  const state = existsSync(stateFile) ? readState(stateFile) : null;
  const pgRoot = state?.pgRoot ?? (await pgRootFor(dir));
  let pair: PostgresPair;
  if (state) {
    pair = await resumePostgresPair(pgRoot, state.ports, {
      ...(state.primaryDownSince ? { leaveDown: 'primary' as const } : {}),
      beforeStart: (instance) => assertPortFree(instance.port, path.basename(instance.dataDir)),
    });
  } else {
    await removePair(pgRoot); // a first start interrupted before it wrote state.json
    pair = await startPostgresPair({ root: pgRoot });
  }
  const ledger = {
    primary: await startStandaloneServer(
      pgRoot,
      'ledger-primary',
      state?.ports.ledgerPrimary ?? (await freePort()),
      'ledger',
    ),
    dr: await startStandaloneServer(
      pgRoot,
      'ledger-dr',
      state?.ports.ledgerDr ?? (await freePort()),
      'ledger',
    ),
  };
  const { s3, port: s3Port } = await runS3rver(
    {
      address: '127.0.0.1',
      silent: true,
      directory: path.join(dir, 's3'),
      configureBuckets: [{ name: LOCAL_BUCKET }],
    },
    state?.ports.s3,
  );
  const ports: LocalState['ports'] = {
    primary: pair.primary.port,
    standby: pair.standby.port,
    s3: s3Port,
    ledgerPrimary: ledger.primary.port,
    ledgerDr: ledger.dr.port,
  };
  if (!state) writeState(dir, { version: LOCAL_VERSION, ports, pgRoot });
  else if (!isDeepStrictEqual(ports, state.ports)) updateState(dir, { ports });
  const s3Endpoint = `http://127.0.0.1:${s3Port}`;
  // After a failover (and perhaps a rebuild) the writer may be either server, or none yet.
  const writer = await writerOf(pair, state?.primaryDownSince ? ['standby'] : undefined);
  if (writer) await ensureDemoData(writer.url);
  await ensureBackup((writer ?? pair.standby).port, s3Endpoint, dir);
  await ensureLedgerData(ledger.primary.url);
  await ensureBackup(ledger.primary.port, s3Endpoint, dir, LEDGER_DUMP);
  const configFile = path.join(dir, 'lifeboat.yml');
  writeFileSync(
    configFile,
    localConfig(
      pair,
      s3Endpoint,
      runbooksDir,
      options.cliAccount ?? currentOsIdentity().username,
      options.healthCheckUrl,
      ledger,
    ),
  );
  const environment: LocalEnvironment = {
    dir,
    pgRoot,
    configFile,
    pair,
    s3Endpoint,
    ledger,
    primaryDownSince: state?.primaryDownSince ? new Date(state.primaryDownSince) : null,
    partitionedSince: state?.partitionedSince ? new Date(state.partitionedSince) : null,
    stop: async () => {
      await s3.close().catch(() => undefined);
      await environment.pair.stop();
      await Promise.allSettled([stopServer(ledger.primary), stopServer(ledger.dr)]);
    },
  };
  return environment;
}

/**
 * The disaster: the primary killed (`pg_ctl stop -m immediate`). Recorded first, so a restart of
 * local mode leaves it down — a dead primary must not come back beside a promoted standby.
 */
export async function killPrimary(environment: LocalEnvironment, at: Date): Promise<void> {
  updateState(environment.dir, { primaryDownSince: at.toISOString() });
  environment.primaryDownSince = at;
  await environment.pair.killPrimary();
}

/**
 * The partition: the demo app can no longer reach the primary, which lives on and still takes
 * writes from anyone else — the case where a failover without a fence leaves two primaries.
 */
export function partitionPrimary(environment: LocalEnvironment, at: Date): void {
  updateState(environment.dir, { partitionedSince: at.toISOString() });
  environment.partitionedSince = at;
}

/**
 * After a failover (or a failback): the old writer, dead or fenced, rebuilt from the one that
 * writes now as its streaming standby, so the service is protected again and can fail back. The
 * partition, if any, is healed with it.
 */
export async function rebuildOldPrimary(
  environment: LocalEnvironment,
  writer: 'primary' | 'standby' = 'standby',
): Promise<void> {
  await rebuildAsStandby(environment.pair, writer === 'standby' ? 'primary' : 'standby');
  updateState(environment.dir, { primaryDownSince: undefined, partitionedSince: undefined });
  environment.primaryDownSince = null;
  environment.partitionedSince = null;
}

/**
 * After a disaster: both servers stopped, their data wiped, and a fresh primary and standby built
 * on the same ports (where the config points), with the demo rows.
 */
export async function rebuildPair(environment: LocalEnvironment): Promise<void> {
  const { primary, standby, root } = environment.pair;
  await removePair(root);
  environment.pair = await startPostgresPair({
    root,
    ports: { primary: primary.port, standby: standby.port },
  });
  await ensureDemoData(environment.pair.primary.url);
  updateState(environment.dir, { primaryDownSince: undefined, partitionedSince: undefined });
  environment.primaryDownSince = null;
  environment.partitionedSince = null;
}

function updateState(dir: string, change: Partial<LocalState>): void {
  writeState(dir, { ...readState(path.join(dir, 'state.json')), ...change });
}

function writeState(dir: string, state: LocalState): void {
  const file = path.join(dir, 'state.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${file}.tmp`, file);
}

/**
 * Starts s3rver on `port`, or on a free port when there is none yet or it is taken: its port is in
 * no file the user keeps (lifeboat.yml is written afresh at every start). s3rver listens without
 * an 'error' listener, so a taken port would be an uncaught exception and a start that never
 * ends: its listen is given one.
 */
async function runS3rver(
  options: Omit<S3rverOptions, 'port'>,
  port: number | undefined,
): Promise<{ s3: S3rver; port: number }> {
  if (port) {
    try {
      return await listenS3rver({ ...options, port });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
  return listenS3rver({ ...options, port: 0 });
}

async function listenS3rver(options: S3rverOptions): Promise<{ s3: S3rver; port: number }> {
  const s3 = new S3rver(options);
  const listen = s3.listen.bind(s3);
  s3.listen = (...args: unknown[]) =>
    new Promise((resolve, reject) => {
      // with a callback, s3rver's listen returns the server itself
      const server = listen(...args, () => {
        server.off('error', reject);
        resolve(server);
      }) as Server;
      server.once('error', reject);
    });
  return { s3, port: (await s3.run()).port };
}

/** The server of the pair that accepts writes, of those that may be up; null when none does. */
async function writerOf(
  pair: PostgresPair,
  roles: ('primary' | 'standby')[] = ['primary', 'standby'],
): Promise<PostgresServer | null> {
  for (const role of roles) if ((await roleOf(pair[role].url)) === 'primary') return pair[role];
  return null;
}

/** The pair's servers stopped and their data removed (a half-made first start, or a reset). */
async function removePair(pgRoot: string): Promise<void> {
  if (!existsSync(pgRoot)) return;
  for (const name of ['primary', 'standby', 'ledger-primary', 'ledger-dr']) {
    const dataDir = path.join(pgRoot, name);
    if (existsSync(dataDir)) await stopServer({ port: 0, dataDir, url: '' }, 'immediate');
  }
  rmSync(pgRoot, { recursive: true, force: true });
}

/**
 * `lifeboat local reset`: everything under .lifeboat/ goes. Servers left running by a local mode
 * that was killed are stopped first, so no PostgreSQL keeps writing into a deleted folder.
 */
export async function resetLocalEnvironment(dir: string): Promise<void> {
  assertNotRunning(dir, 'wipe its data');
  const stateFile = path.join(dir, 'state.json');
  let saved: Partial<LocalState> = {};
  try {
    saved = readState(stateFile);
  } catch {
    // no state, or unreadable: the data is where a first start puts it
  }
  await removePair(saved.pgRoot ?? path.join(dir, 'pg'));
  rmSync(dir, { recursive: true, force: true });
}

function readState(file: string): LocalState {
  let state: Partial<LocalState>;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalState>;
  } catch {
    throw new ConfigError(
      '',
      `${file} is unreadable (not the JSON lifeboat wrote): run "lifeboat local reset" to start afresh`,
    );
  }
  if (state.version !== LOCAL_VERSION || !state.ports) {
    throw new ConfigError(
      '',
      `${path.dirname(file)} was made by another version of lifeboat's local mode (layout ${String(state.version)}, this one ${LOCAL_VERSION}): run "lifeboat local reset" to start afresh`,
    );
  }
  return state as LocalState;
}

/**
 * As root, the servers run as the postgres user, who must be able to walk down to their data. In
 * a checkout they cannot reach (under /root, say), the data goes to /var/tmp instead, named after
 * the checkout so two checkouts never share it.
 */
async function pgRootFor(dir: string): Promise<string> {
  const inside = path.join(path.resolve(dir), 'pg');
  if (process.getuid?.() !== 0) return inside;
  const reachable = await run('runuser', ['-u', 'postgres', '--', 'test', '-x', path.resolve(dir)])
    .then(() => true)
    .catch(() => false);
  if (reachable) return inside;
  const id = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 12);
  return path.join('/var/tmp', `lifeboat-pg-${id}`);
}

async function assertPortFree(port: number, name: string): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
  if (!free) {
    throw new ConfigError(
      '',
      `port ${port} (${name}) is taken: stop what uses it (local mode running from another checkout?). If nothing of lifeboat's uses it and this .lifeboat/ holds nothing you need, "lifeboat local reset" starts over with new ports`,
    );
  }
}

/** Runs `sql` with psql against `url`, stopping at the first error. */
async function psql(url: string, sql: string): Promise<void> {
  await run(path.join(PG_BIN, 'psql'), [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
}

async function ensureDemoData(url: string): Promise<void> {
  await psql(
    url,
    `CREATE TABLE IF NOT EXISTS payments (id bigserial PRIMARY KEY, amount int NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
     INSERT INTO payments (amount) SELECT g FROM generate_series(1, 100) g WHERE NOT EXISTS (SELECT 1 FROM payments);`,
  );
}

/** Which database a dump is of, and under which prefix of the bucket it goes. */
interface DumpOf {
  database: string;
  prefix: string;
}

const PAYMENTS_DUMP: DumpOf = { database: 'postgres', prefix: 'postgres/' };
const LEDGER_DUMP: DumpOf = { database: 'ledger', prefix: 'ledger/' };

/** A real pg_dump of the primary in the store, unless one is there already. */
async function ensureBackup(
  port: number,
  endpoint: string,
  dir: string,
  of: DumpOf = PAYMENTS_DUMP,
): Promise<void> {
  const client = createS3Client({ region: 'us-west-2', endpoint }, S3RVER_CREDENTIALS);
  const listed = await client.send(
    new (s3Sdk().ListObjectsV2Command)({ Bucket: LOCAL_BUCKET, Prefix: of.prefix }),
  );
  if ((listed.Contents ?? []).length > 0) return;
  await dumpToStore(port, endpoint, dir, of);
}

/** The ledger demo's rows, unless its primary has them or is fenced (after its recovery). */
async function ensureLedgerData(url: string): Promise<void> {
  await psql(
    url,
    `DO $$ BEGIN
       IF current_setting('default_transaction_read_only') = 'off' THEN
         CREATE TABLE IF NOT EXISTS entries (id bigserial PRIMARY KEY, amount int NOT NULL, booked_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO entries (amount) SELECT g FROM generate_series(1, 500) g WHERE NOT EXISTS (SELECT 1 FROM entries);
       END IF;
     END $$;`,
  );
}

/**
 * What a backup job does: a pg_dump of the server on `port` into the store, under a key named
 * by the time, with its SHA-256 so a restore test can check the bytes. Returns the key and size.
 */
export async function dumpToStore(
  port: number,
  endpoint: string,
  dir: string,
  of: DumpOf = PAYMENTS_DUMP,
): Promise<{ key: string; bytes: number }> {
  const client = createS3Client({ region: 'us-west-2', endpoint }, S3RVER_CREDENTIALS);
  const file = path.join(dir, `backup-${process.pid}-${Date.now()}.dump`);
  try {
    await run(path.join(PG_BIN, 'pg_dump'), [
      '-Fc',
      ...localServerArgs(port),
      '-f',
      file,
      of.database,
    ]);
    const body = readFileSync(file);
    const key = `${of.prefix}${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.dump`;
    await client.send(
      new (s3Sdk().PutObjectCommand)({
        Bucket: LOCAL_BUCKET,
        Key: key,
        Body: body,
        ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
      }),
    );
    return { key, bytes: body.length };
  } finally {
    rmSync(file, { force: true });
    client.destroy();
  }
}

function localConfig(
  pair: PostgresPair,
  s3Endpoint: string,
  runbooksDir: string,
  cliAccount: string,
  healthCheckUrl: string | undefined,
  ledger: { primary: PostgresServer; dr: PostgresServer },
): string {
  const backups = (prefix: string, table: string) => `    backups:
      provider: s3
      bucket: ${LOCAL_BUCKET}
      prefix: ${prefix}
      region: us-west-2
      endpoint: ${s3Endpoint}
      credentials: s3rver
      max_age: 1d
      restore_test: { expected_tables: [${table}] }
`;
  return `# Written by lifeboat's local mode: a PostgreSQL pair and an S3 stand-in on this machine.
slack:
  channel: C0LOCAL
approvals:
  approvers: [${LOCAL_USERS.requester}, ${LOCAL_USERS.approver}]
  required: 1
  expires_after: 15m
# The break-glass CLI acts for the OS account that runs it: here, you are alice.
cli:
  users: { ${JSON.stringify(cliAccount)}: ${LOCAL_USERS.requester} }
store: ./lifeboat.db
runbooks_dir: ${JSON.stringify(runbooksDir)}
services:
  payments-db:
    rto: 15m
    rpo: 1m
    runbooks: { failover: failover, failback: failback, switchover: switchover }
    database:
      provider: postgres
      primary: ${pair.primary.url}
      replica: ${pair.standby.url}
${backups('postgres/', 'payments')}${healthCheckUrl ? `    health_check: { url: ${JSON.stringify(healthCheckUrl)}, expect_status: 200, timeout: 2s }\n` : ''}  # The second demo: no replica, recovered by restoring its newest backup into a DR server
  # (/dr failover ledger-db), to compare its RTO with payments-db's in the run history.
  ledger-db:
    rto: 1h
    rpo: 1d
    strategy: backup-restore
    runbooks: { failover: restore-from-backup }
    database:
      provider: postgres
      primary: ${ledger.primary.url}
      replica: ${ledger.dr.url}
${backups('ledger/', 'entries')}schedules:
  - { name: backup-check, cron: '*/30 * * * *', check: backups }
  - { name: lag-watch, cron: '* * * * *', check: lag }
`;
}
