// A real pgBackRest repository for a test: a throwaway PostgreSQL archiving its WAL into it
// (archive_command = pgbackrest archive-push), a stanza, and backups of each type on demand.
// pgBackRest runs as the postgres user (as PostgreSQL does) and always on the real clock — the
// faketime pass shifts processes, not file times, and the repository holds both.

import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { asPostgres, startThrowawayServer } from '../../src/providers/postgres/servers.js';

const run = promisify(execFile);

/** How lifeboat and the helpers run pgbackrest: as postgres when root, off faketime's clock. */
export const PGBACKREST_COMMAND = [
  'env',
  '-u',
  'LD_PRELOAD',
  '-u',
  'FAKETIME',
  ...(process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []),
  'pgbackrest',
];

export interface PgBackRestRepo {
  url: string;
  port: number;
  config: string;
  stanza: string;
  root: string;
  backup(type: 'full' | 'diff' | 'incr'): Promise<void>;
  stop(): Promise<void>;
}

export async function startPgBackRestRepo(stanza = 'demo'): Promise<PgBackRestRepo> {
  const instance = await startThrowawayServer();
  const root = instance.root;
  const config = path.join(root, 'pgbackrest.conf');
  for (const dir of ['repo', 'log', 'lock']) mkdirSync(path.join(root, dir));
  writeFileSync(
    config,
    `[global]
repo1-path=${root}/repo
repo1-retention-full=99
log-path=${root}/log
lock-path=${root}/lock
start-fast=y
archive-timeout=30
log-level-console=error

[${stanza}]
pg1-path=${instance.server.dataDir}
pg1-port=${instance.server.port}
pg1-socket-path=${root}
pg1-user=postgres
`,
  );
  if (process.getuid?.() === 0) await run('chown', ['-R', 'postgres', root]);
  appendFileSync(
    path.join(instance.server.dataDir, 'postgresql.conf'),
    // PostgreSQL runs archive_command as postgres already.
    `archive_mode = on\narchive_command = 'env -u LD_PRELOAD -u FAKETIME pgbackrest --config=${config} --stanza=${stanza} archive-push %p'\n`,
  );
  await asPostgres('pg_ctl', [
    '-D',
    instance.server.dataDir,
    '-w',
    '-l',
    path.join(root, 'restart.log'),
    'restart',
  ]);
  const pgbackrest = async (...args: string[]) => {
    const [file, ...pre] = PGBACKREST_COMMAND;
    await run(file!, [...pre, `--config=${config}`, `--stanza=${stanza}`, ...args], { cwd: '/' });
  };
  await pgbackrest('stanza-create');
  return {
    url: instance.server.url,
    port: instance.server.port,
    config,
    stanza,
    root,
    backup: (type) => pgbackrest('backup', `--type=${type}`),
    stop: () => instance.stop(),
  };
}
