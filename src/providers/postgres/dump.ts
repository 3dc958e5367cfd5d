// A pg_dump of one server, consistent with row counts taken in the same snapshot: a read-only
// REPEATABLE READ transaction exports its snapshot, counts every table's rows in it, and holds it
// while `pg_dump -Fc --snapshot` dumps exactly that state. The dump is handed over as a stream
// (never a file, never whole in memory); the password travels in PGPASSWORD, never on the command
// line where `ps` shows it.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { ProviderError } from '../../errors.js';
import { withFreshClient } from './connect.js';
import { pgBinDir } from '../../config/environment.js';

export interface DumpSource {
  url: string;
  /** How messages name the server ("primary 10.0.0.5:5432"). */
  name: string;
}

export interface RunningDump {
  /** pg_dump's custom-format output. */
  stream: Readable;
  /** Rows per table ("schema.table") in the snapshot being dumped. */
  tables: Record<string, number>;
  /** The server's clock when the snapshot was taken, ISO: the backup's point in time. */
  snapshotAt: string;
}

/**
 * Rows of every ordinary table pg_dump dumps data for (a partition is a table of its own; its
 * parent holds no rows), named as the restore test names them ("payments", "audit.events");
 * lifeboat's own write checks are not the service's data. In the caller's transaction.
 */
export async function countRowsIn(client: Queryable): Promise<Record<string, number>> {
  const { rows: names } = await client.query<{ name: string }>(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'lifeboat')
        AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
      ORDER BY 1`,
  );
  const tables: Record<string, number> = {};
  for (const { name } of names) {
    const {
      rows: [counted],
    } = await client.query<{ rows: string }>(`SELECT count(*) AS rows FROM ONLY ${name}`);
    tables[name.replace(/^public\./, '')] = Number(counted!.rows);
  }
  return tables;
}

type Queryable = Pick<pg.ClientBase, 'query'>;

/** Counting rows of a big table takes a while: minutes, not the failover path's seconds. */
const COUNT_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * Dumps `source` while `consume` reads the stream; resolves to what `consume` returned once
 * pg_dump has exited 0. A dump that fails (pg_dump's exit, the server gone) rejects naming
 * pg_dump's own words, after `consume` saw the stream end or fail.
 */
export async function withPostgresDump<T>(
  source: DumpSource,
  consume: (dump: RunningDump) => Promise<T>,
): Promise<T> {
  return withFreshClient(
    source.url,
    source.name,
    async (client) => {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const {
        rows: [snapshot],
      } = await client.query<{ id: string; at: Date }>(
        'SELECT pg_export_snapshot() AS id, statement_timestamp() AS at',
      );
      const tables = await countRowsIn(client);
      const dump = spawnDump(source, snapshot!.id);
      let result: T;
      try {
        result = await consume({
          stream: dump.stream,
          tables,
          snapshotAt: snapshot!.at.toISOString(),
        });
      } catch (error) {
        dump.kill();
        // pg_dump's own words explain a stream that ended early better than the consumer can.
        const failed = await dump.exited.then(
          () => null,
          (why: unknown) => why,
        );
        throw failed ?? error;
      }
      await dump.exited;
      await client.query('COMMIT');
      return result;
    },
    { statementTimeoutMs: COUNT_TIMEOUT_MS },
  );
}

function spawnDump(
  source: DumpSource,
  snapshot: string,
): { stream: Readable; exited: Promise<void>; kill: () => void } {
  const { child, stderr } = spawnClientTool('pg_dump', source, ['-Fc', `--snapshot=${snapshot}`], {
    stdout: 'pipe',
    application: 'lifeboat-backup',
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (error) =>
      reject(new ProviderError(source.name, `pg_dump did not start: ${error.message}`, false)),
    );
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new ProviderError(
            source.name,
            `pg_dump failed (${signal ?? `exit ${code}`}): ${stderr().trim().split('\n').slice(-3).join(' ') || 'no message'}`,
            false,
          ),
        );
    });
  });
  exited.catch(() => undefined); // awaited by the caller; never an unhandled rejection meanwhile
  return { stream: child.stdout!, exited, kill: () => child.kill('SIGTERM') };
}

/**
 * Restores a custom-format dump into `target` in one transaction (`--single-transaction
 * --clean --if-exists`): what the server held is replaced, or — pg_restore failing, the process
 * killed — left as it was; running it again restores it again. Then counts the rows restored.
 */
export async function restoreDump(
  target: DumpSource,
  file: string,
): Promise<{ seconds: number; tables: Record<string, number> }> {
  const started = performance.now();
  const stderr = await new Promise<string | null>((resolve, reject) => {
    const { child, stderr: text } = spawnClientTool(
      'pg_restore',
      target,
      [
        '--single-transaction',
        '--clean',
        '--if-exists',
        '--exit-on-error',
        '--no-owner',
        '--no-privileges',
        file,
      ],
      { stdout: 'ignore', application: 'lifeboat-restore' },
    );
    child.once('error', reject);
    child.once('close', (code, signal) =>
      resolve(code === 0 ? null : `${signal ?? `exit ${code}`}: ${text().trim()}`),
    );
  }).catch((error: Error) => `did not start: ${error.message}`);
  if (stderr !== null)
    throw new ProviderError(
      target.name,
      `pg_restore failed (${stderr.split('\n').find((line) => line.includes('error')) ?? stderr.split('\n')[0]}): the server holds what it held before`,
      false,
    );
  const seconds = (performance.now() - started) / 1000;
  const tables = await withFreshClient(target.url, target.name, (client) => countRowsIn(client), {
    statementTimeoutMs: COUNT_TIMEOUT_MS,
  });
  return { seconds, tables };
}

/**
 * pg_dump or pg_restore against `target`: the password in PGPASSWORD (never on the command line,
 * where `ps` shows it), never prompted for, named in pg_stat_activity; stderr kept (its first 8 KB).
 */
function spawnClientTool(
  binary: 'pg_dump' | 'pg_restore',
  target: DumpSource,
  args: string[],
  options: { stdout: 'pipe' | 'ignore'; application: string },
): { child: ChildProcess; stderr: () => string } {
  const url = new URL(target.url);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const child = spawn(
    path.join(pgBinDir(), binary),
    ['--no-password', `--dbname=${url.toString()}`, ...args],
    {
      stdio: ['ignore', options.stdout, 'pipe'],
      env: {
        ...process.env,
        ...(password ? { PGPASSWORD: password } : {}),
        PGAPPNAME: options.application,
      },
    },
  );
  let text = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (text.length < 8192) text += chunk;
  });
  return { child, stderr: () => text };
}
