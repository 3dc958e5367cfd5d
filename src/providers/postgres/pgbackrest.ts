// pgBackRest's view of a stanza: its full, differential and incremental backups and what each one
// depends on (`pgbackrest info --output=json`), and the WAL segments in its archive with the time
// each was stored (`pgbackrest repo-ls --recurse --output=json archive/STANZA/ID`) — read from the
// repository itself, so it answers when the primary is gone, which is when it matters.
// Commands are argument arrays (`[sudo, -u, postgres, pgbackrest]`), never a shell string.

import { execFile } from 'node:child_process';
import { appendFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ProviderError } from '../../errors.js';
import { pollUntil } from '../progress.js';
import { withFreshClient } from './connect.js';
import { countRowsIn } from './dump.js';

const run = promisify(execFile);

export interface ChainBackup {
  label: string;
  type: 'full' | 'diff' | 'incr';
  startedAt: Date;
  stoppedAt: Date;
  /** The backup this one was taken against (null for a full). */
  prior: string | null;
  /** Every backup whose files this one needs to be restored. */
  references: string[];
  error: boolean;
  /** The WAL a restore of this backup needs to be consistent: first and last segment. */
  walStart: string | null;
  walStop: string | null;
}

export interface ArchivedSegment {
  name: string;
  storedAt: Date;
}

export interface ChainInfo {
  /** How messages name the repository: "stanza main", "WAL-G". */
  stanza: string;
  status: { ok: boolean; message: string };
  backups: ChainBackup[];
  /** WAL segments in the archive of the current database, oldest first (pgBackRest lists them). */
  segments: ArchivedSegment[] | null;
  /** The tool's own WAL verdict where it gives one instead of a listing (WAL-G's wal-verify). */
  walVerify?: WalVerify | null;
}

export interface WalVerify {
  /** OK, WARNING (segments not archived yet) or FAILURE (segments lost). */
  status: string;
  /** Ranges of segments that are gone for good. */
  lost: { start: string; end: string; count: number }[];
  /** The timeline check: FAILURE when storage holds a newer timeline than the cluster's. */
  timeline: { status: string; current: number | null; highest: number | null } | null;
}

interface InfoJson {
  name: string;
  status: { code: number; message: string };
  db?: { id: number; version: string }[];
  archive?: { id: string; database?: { id: number }; min: string | null; max: string | null }[];
  backup?: {
    label: string;
    type: 'full' | 'diff' | 'incr';
    prior: string | null;
    reference: string[] | null;
    error?: boolean;
    timestamp: { start: number; stop: number };
    archive?: { start: string | null; stop: string | null };
  }[];
}

export interface PgBackRestOptions {
  /** How to run pgbackrest: default ["pgbackrest"]. */
  command: readonly string[];
  stanza: string;
  config?: string;
}

export async function readPgBackRest(options: PgBackRestOptions): Promise<ChainInfo> {
  const info = JSON.parse(await pgbackrest(options, ['info', '--output=json'])) as InfoJson[];
  const stanza = info.find((entry) => entry.name === options.stanza);
  if (!stanza)
    throw new ProviderError(
      `pgbackrest stanza ${options.stanza}`,
      'pgbackrest info does not list it',
      true,
    );
  const archiveId = stanza.archive?.at(-1)?.id ?? null;
  const listing = archiveId
    ? (JSON.parse(
        await pgbackrest(options, [
          'repo-ls',
          '--recurse',
          '--output=json',
          `archive/${options.stanza}/${archiveId}`,
        ]),
      ) as Record<string, { type: string; time?: number }>)
    : {};
  return parsePgBackRest(stanza, listing);
}

/** Pure: pgBackRest's JSON for one stanza and its archive listing. */
export function parsePgBackRest(
  stanza: InfoJson,
  listing: Record<string, { type: string; time?: number }>,
): ChainInfo {
  const segments = Object.entries(listing)
    .flatMap(([file, entry]) => {
      // "0000000100000000/000000010000000000000003-<sha1>.gz": a whole segment; .backup, .history
      // and .partial files are not.
      const name = /(?:^|\/)([0-9A-F]{24})-[0-9a-f]{40}(?:\.\w+)?$/.exec(file)?.[1];
      return entry.type === 'file' && name
        ? [{ name, storedAt: new Date((entry.time ?? 0) * 1000) }]
        : [];
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    stanza: stanza.name,
    status: { ok: stanza.status.code === 0, message: stanza.status.message },
    backups: (stanza.backup ?? []).map((backup) => ({
      label: backup.label,
      type: backup.type,
      startedAt: new Date(backup.timestamp.start * 1000),
      stoppedAt: new Date(backup.timestamp.stop * 1000),
      prior: backup.prior,
      references: backup.reference ?? [],
      error: backup.error === true,
      walStart: backup.archive?.start ?? null,
      walStop: backup.archive?.stop ?? null,
    })),
    segments,
  };
}

async function pgbackrest(options: PgBackRestOptions, args: string[]): Promise<string> {
  const [file, ...pre] = options.command;
  const argv = [
    ...pre,
    ...(options.config ? [`--config=${options.config}`] : []),
    `--stanza=${options.stanza}`,
    '--log-level-console=error',
    ...args,
  ];
  try {
    const { stdout } = await run(file!, argv, { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
    return stdout;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new ProviderError(
      `pgbackrest stanza ${options.stanza}`,
      `${[file, ...argv].join(' ')} failed: ${(stderr?.trim() || message).split('\n')[0]}`,
      false,
    );
  }
}

/** WAL segment name -> its position in the WAL stream (16 MB segments: 256 to a log file). */
export function segmentNumber(name: string): number {
  return parseInt(name.slice(8, 16), 16) * 256 + parseInt(name.slice(16, 24), 16);
}

/** The segment name at `number` on `timeline` ("00000001"). */
export function segmentName(timeline: string, number: number): string {
  const hex = (value: number) => value.toString(16).toUpperCase().padStart(8, '0');
  return `${timeline}${hex(Math.floor(number / 256))}${hex(number % 256)}`;
}

/**
 * A restore test of one member of the chain (`set`, or the newest): `pgbackrest restore` into a
 * throwaway folder, recovered to that backup's consistent point only (`--type=immediate`), started
 * on a free loopback port with archiving off (it must never push WAL into the repository), its rows
 * counted once it takes writes, then stopped and removed.
 */
export async function restoreChainMember(
  options: PgBackRestOptions,
  set: string | null,
): Promise<{ set: string; seconds: number; tables: Record<string, number> }> {
  const chain = await readPgBackRest(options);
  const member = set ? chain.backups.find((backup) => backup.label === set) : chain.backups.at(-1);
  if (!member)
    throw new ProviderError(
      `pgbackrest stanza ${options.stanza}`,
      set
        ? `has no backup ${set} (it has ${chain.backups.map((backup) => backup.label).join(', ') || 'none'})`
        : 'has no backup to restore',
      true,
    );
  // The server helpers (and pg with them) load only for a restore test, not with every check.
  const { freePort, makePostgresDir, roleOf, startOnPickedPort, stopServer } =
    await import('./servers.js');
  const root = makePostgresDir('lifeboat-pitr-restore-');
  const port = await freePort();
  let server = {
    port,
    dataDir: path.join(root, 'data'),
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
  };
  const started = performance.now();
  try {
    await pgbackrest(options, [
      `--pg1-path=${server.dataDir}`,
      `--set=${member.label}`,
      '--type=immediate',
      '--target-action=promote',
      'restore',
    ]);
    const conf = path.join(server.dataDir, 'postgresql.auto.conf');
    appendFileSync(
      conf,
      `\n# lifeboat's restore test\nport = ${server.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${root}'\narchive_mode = off\n`,
    );
    server = await startOnPickedPort(server, conf);
    await pollUntil({
      resource: `restore of ${member.label}`,
      waitingFor: 'recovery to end',
      look: async () => {
        const role = await roleOf(server.url);
        return { done: role === 'primary' ? true : null, status: role };
      },
      maxWaitSeconds: 600,
      pollMs: 200,
      clock: () => new Date(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    const tables = await withFreshClient(server.url, `restore of ${member.label}`, (client) =>
      countRowsIn(client),
    );
    return { set: member.label, seconds: (performance.now() - started) / 1000, tables };
  } finally {
    await stopServer(server, 'immediate');
    rmSync(root, { recursive: true, force: true });
  }
}
