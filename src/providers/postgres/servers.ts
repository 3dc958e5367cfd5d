// A real PostgreSQL primary and streaming standby on loopback, from the PostgreSQL 15 binaries:
// what the failover tests, the benchmarks and local mode run against. As root, initdb and postgres
// refuse to run, so every server command runs as the `postgres` user.

import { execFile, execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { pgBinDir } from '../../config/environment.js';
import { ConfigError } from '../../errors.js';

const run = promisify(execFile);

export const PG_BIN = pgBinDir();

/** How the client tools (pg_dump, pg_restore, pg_basebackup) reach a throwaway server on `port`. */
export function localServerArgs(port: number): string[] {
  return ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres'];
}

export interface PostgresServer {
  port: number;
  dataDir: string;
  url: string;
}

export interface PostgresPair {
  root: string;
  primary: PostgresServer;
  standby: PostgresServer;
  /** kill -9 of the primary's postmaster: the disaster. */
  killPrimary(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a primary, a streaming standby of it, and waits until the standby streams. `ports` picks
 * the ports (local mode rebuilding its pair where the config expects it); free ones otherwise.
 */
export async function startPostgresPair(
  options: { root?: string; ports?: { primary: number; standby: number } } = {},
): Promise<PostgresPair> {
  assertBinaries();
  const root = options.root ?? mkdtempSync(path.join(tmpdir(), 'lifeboat-pg-'));
  mkdirSync(root, { recursive: true });
  giveToPostgres(root);
  const [primaryPort, standbyPort] = options.ports
    ? [options.ports.primary, options.ports.standby]
    : [await freePort(), await freePort()];
  const ports = options.ports ? 'known' : 'picked now';
  const started: PostgresServer[] = [];
  try {
    started.push(await createAndStart(server(root, 'primary', primaryPort), root, ports));
    started.push(
      await startStandbyOf(started[0]!, server(root, 'standby', standbyPort), root, ports),
    );
  } catch (error) {
    await Promise.allSettled(started.map((s) => stopServer(s)));
    throw error;
  }
  const [primary, standby] = started as [PostgresServer, PostgresServer];
  return {
    root,
    primary,
    standby,
    killPrimary: () => stopServer(primary, 'immediate'),
    stop: async () => {
      await Promise.allSettled([stopServer(primary), stopServer(standby)]);
      if (!options.root) rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a pair created earlier in `root` on the same ports (local mode's second start). The
 * caller knows the ports; the data stays where it is. A server still running from a process that
 * died is adopted as it is; `leaveDown` names one that must stay down (a primary killed on
 * purpose must not come back beside its promoted standby).
 */
export async function resumePostgresPair(
  root: string,
  ports: { primary: number; standby: number },
  options: {
    leaveDown?: 'primary';
    beforeStart?: (instance: PostgresServer) => Promise<void>;
  } = {},
): Promise<PostgresPair> {
  assertBinaries();
  const primary = server(root, 'primary', ports.primary);
  const standby = server(root, 'standby', ports.standby);
  for (const instance of options.leaveDown === 'primary' ? [standby] : [primary, standby]) {
    if (await isRunning(instance)) continue;
    await options.beforeStart?.(instance);
    await startServer(instance);
  }
  return {
    root,
    primary,
    standby,
    killPrimary: () => stopServer(primary, 'immediate'),
    stop: async () => {
      await Promise.allSettled([stopServer(primary), stopServer(standby)]);
    },
  };
}

/** A fresh folder for PostgreSQL data that the postgres user owns (as root) or we own. */
export function makePostgresDir(prefix: string): string {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  giveToPostgres(root);
  return root;
}

/** A single throwaway server (restore tests): started in its own folder, removed by stop(). */
export async function startThrowawayServer(): Promise<{
  server: PostgresServer;
  root: string;
  stop(): Promise<void>;
}> {
  assertBinaries();
  const root = mkdtempSync(path.join(tmpdir(), 'lifeboat-restore-'));
  giveToPostgres(root);
  let instance: PostgresServer;
  try {
    instance = await createAndStart(server(root, 'restore', await freePort()), root, 'picked now');
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    server: instance,
    root,
    stop: async () => {
      await stopServer(instance, 'immediate');
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * A standalone server in `root`/`name` on `port` (local mode's backup-restore service): created the
 * first time, started when it is down, adopted when it already runs. With `database`, that
 * database exists in it. A server created now moves to another port if `port` was taken
 * meanwhile: the caller keeps the port it returns.
 */
export async function startStandaloneServer(
  root: string,
  name: string,
  port: number,
  database?: string,
): Promise<PostgresServer> {
  assertBinaries();
  mkdirSync(root, { recursive: true });
  giveToPostgres(root);
  let instance = server(root, name, port);
  if (!existsSync(instance.dataDir)) instance = await createAndStart(instance, root, 'picked now');
  else if (!(await isRunning(instance))) await startServer(instance);
  if (database && /^[a-z_][a-z0-9_]*$/.test(database)) {
    const client = new pg.Client({ connectionString: instance.url });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        database,
      ]);
      if (!rowCount) await client.query(`CREATE DATABASE ${database}`);
    } finally {
      await client.end();
    }
  }
  return {
    ...instance,
    url: database ? instance.url.replace(/\/postgres$/, `/${database}`) : instance.url,
  };
}

/**
 * A streaming standby of `source` in `standby`'s folder (which must not exist): pg_basebackup with
 * the recovery settings, our settings, start, and wait until it streams.
 */
async function startStandbyOf(
  source: PostgresServer,
  standby: PostgresServer,
  root: string,
  port: 'picked now' | 'known',
): Promise<PostgresServer> {
  await asPostgres('pg_basebackup', [
    ...localServerArgs(source.port),
    '-D',
    standby.dataDir,
    '-R',
    '-X',
    'stream',
    '--no-sync',
  ]);
  const conf = path.join(standby.dataDir, 'postgresql.conf');
  appendFileSync(conf, serverConf(standby.port, root));
  if (port === 'picked now') standby = await startOnPickedPort(standby, conf);
  else await startServer(standby);
  await waitForStreaming(source.url);
  return standby;
}

/**
 * After a failover: the old primary, dead, is rebuilt from the promoted standby as its streaming
 * standby — what must happen before a failback can promote it again.
 */
export async function rebuildOldPrimaryAsStandby(pair: PostgresPair): Promise<void> {
  await rebuildAsStandby(pair, 'primary');
}

/**
 * `which` server of the pair — dead, fenced or diverged — is thrown away and made afresh a
 * streaming standby of the other (pg_basebackup, so nothing of its old data or settings stays).
 */
export async function rebuildAsStandby(
  pair: PostgresPair,
  which: 'primary' | 'standby',
): Promise<void> {
  const rebuilt = pair[which];
  const source = pair[which === 'primary' ? 'standby' : 'primary'];
  await stopServer(rebuilt, 'immediate');
  rmSync(rebuilt.dataDir, { recursive: true, force: true });
  await startStandbyOf(source, rebuilt, pair.root, 'known'); // the config names its port
}

/** initdb, our settings, start. */
async function createAndStart(
  instance: PostgresServer,
  root: string,
  port: 'picked now' | 'known',
): Promise<PostgresServer> {
  await asPostgres('initdb', [
    '-D',
    instance.dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-sync',
    '-E',
    'UTF8',
  ]);
  const conf = path.join(instance.dataDir, 'postgresql.conf');
  appendFileSync(conf, serverConf(instance.port, root));
  if (port === 'picked now') return startOnPickedPort(instance, conf);
  await startServer(instance);
  return instance;
}

export async function stopServer(
  instance: PostgresServer,
  mode: 'fast' | 'immediate' = 'fast',
): Promise<void> {
  if (!existsSync(path.join(instance.dataDir, 'postmaster.pid'))) return;
  await asPostgres('pg_ctl', ['-D', instance.dataDir, '-m', mode, '-w', 'stop']).catch(
    () => undefined,
  );
}

/** `pg_ctl status`: is a server running on this data folder (a stale postmaster.pid is not)? */
export async function isRunning(instance: PostgresServer): Promise<boolean> {
  if (!existsSync(path.join(instance.dataDir, 'postmaster.pid'))) return false;
  return asPostgres('pg_ctl', ['-D', instance.dataDir, 'status']).then(
    () => true,
    () => false,
  );
}

export async function startServer(instance: PostgresServer): Promise<void> {
  await asPostgres('pg_ctl', [
    '-D',
    instance.dataDir,
    '-l',
    logOf(instance),
    '-w',
    '-t',
    '60',
    'start',
  ]);
}

/** Where pg_ctl writes a server's log: beside its data folder. */
function logOf(instance: PostgresServer): string {
  return path.join(path.dirname(instance.dataDir), `${path.basename(instance.dataDir)}.log`);
}

/** How many times a new server moves to another port when the one picked for it was taken. */
const PORT_TRIES = 4;

/**
 * Starts a server made just now on a port picked free earlier (initdb or a base backup took
 * seconds, and any process may take a free port meanwhile, if only as a connection's local end).
 * When the server could not bind it, another free port is written to `confFile` and the server
 * started again. Returns the server as it runs. Only for servers nobody knows the port of yet: a
 * server the config names keeps its port, and fails if it is taken.
 */
export async function startOnPickedPort(
  instance: PostgresServer,
  confFile: string,
): Promise<PostgresServer> {
  for (let attempt = 1; ; attempt++) {
    const logged = existsSync(logOf(instance)) ? statSync(logOf(instance)).size : 0;
    try {
      await startServer(instance);
      return instance;
    } catch (error) {
      if (attempt >= PORT_TRIES || !portTakenSince(logOf(instance), logged)) throw error;
      const port = await freePort();
      appendFileSync(confFile, `\n# port ${instance.port} was taken\nport = ${port}\n`);
      instance = {
        ...instance,
        port,
        url: instance.url.replace(`:${instance.port}/`, `:${port}/`),
      };
    }
  }
}

/** Did the server's log, past `offset`, say its port was in use? */
function portTakenSince(log: string, offset: number): boolean {
  if (!existsSync(log)) return false;
  return readFileSync(log).subarray(offset).toString('utf8').includes('Address already in use');
}

/** Runs a PostgreSQL binary, as the postgres user when we are root. */
export async function asPostgres(binary: string, args: string[]): Promise<string> {
  const file = path.join(PG_BIN, binary);
  const isRoot = process.getuid?.() === 0;
  const [command, argv] = isRoot
    ? ['runuser', ['-u', 'postgres', '--', file, ...args]]
    : [file, args];
  try {
    const { stdout } = await run(command, argv, { cwd: '/', maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`${binary} ${args.join(' ')} failed: ${stderr?.trim() || message}`, {
      cause: error,
    });
  }
}

export type ServerRole = 'primary' | 'standby' | 'down';

/** What a server is right now: accepting writes, a standby in recovery, or not answering. */
export async function roleOf(url: string): Promise<ServerRole> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 800,
    application_name: 'lifeboat-local',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ standby: boolean }>(
      'SELECT pg_is_in_recovery() AS standby',
    );
    return rows[0]?.standby ? 'standby' : 'primary';
  } catch {
    return 'down';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function server(root: string, name: string, port: number): PostgresServer {
  return {
    port,
    dataDir: path.join(root, name),
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
  };
}

function serverConf(port: number, socketDir: string): string {
  return [
    '',
    '# written by lifeboat',
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${socketDir}'`,
    'wal_level = replica',
    'max_wal_senders = 10',
    'hot_standby = on',
    'fsync = off',
    'full_page_writes = off',
    "shared_buffers = '32MB'",
    'wal_receiver_status_interval = 1s',
    'hot_standby_feedback = on',
    // The log in English whatever the machine's locale: a taken port is recognised by its text.
    "lc_messages = 'C'",
    '',
  ].join('\n');
}

async function waitForStreaming(primaryUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const client = new pg.Client({ connectionString: primaryUrl });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_replication WHERE state = 'streaming'",
      );
      if (Number(rows[0]?.n) > 0) return;
      if (Date.now() > deadline) throw new Error('the standby did not start streaming within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await client.end();
  }
}

/** PostgreSQL 15's binaries are where PG_BIN says, or a ConfigError says how to install them. */
export function assertBinaries(): void {
  if (!existsSync(path.join(PG_BIN, 'pg_ctl'))) {
    throw new ConfigError(
      'LIFEBOAT_PG_BIN',
      `no PostgreSQL 15 binaries in ${PG_BIN}: install them ("sudo apt-get install postgresql-15" on Debian/Ubuntu), or point LIFEBOAT_PG_BIN at the folder holding pg_ctl`,
    );
  }
}

function giveToPostgres(dir: string): void {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = postgresIds();
  chownSync(dir, uid, gid);
}

let ids: { uid: number; gid: number } | null = null;
function postgresIds(): { uid: number; gid: number } {
  if (ids) return ids;
  const passwd = readPasswd();
  const line = passwd.split('\n').find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error('running as root needs a "postgres" user to run PostgreSQL as');
  const [, , uid, gid] = line.split(':');
  ids = { uid: Number(uid), gid: Number(gid) };
  return ids;
}

function readPasswd(): string {
  return execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' });
}
