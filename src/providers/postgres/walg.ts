// WAL-G's view of its storage: the base backups and their deltas (`wal-g backup-list --detail
// --json`: a delta is named base_<its WAL>_D_<the WAL of the backup it is taken against>), and its
// own verdict on the WAL archive (`wal-g wal-verify integrity timeline --json`). Commands are
// argument arrays; WAL-G reads its storage settings from its config file or environment.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ProviderError } from '../../errors.js';
import type { ChainBackup, ChainInfo, WalVerify } from './pgbackrest.js';

const run = promisify(execFile);

interface BackupJson {
  backup_name: string;
  wal_file_name?: string;
  start_time?: string;
  finish_time?: string;
  time?: string;
}

interface VerifyJson {
  integrity?: {
    status: string;
    details?: {
      timeline_id: number;
      start_segment: string;
      end_segment: string;
      segments_count: number;
      status: string;
    }[];
  };
  timeline?: {
    status: string;
    details?: { current_timeline_id?: number; highest_storage_timeline_id?: number };
  };
}

export async function readWalG(options: {
  command: readonly string[];
  config?: string;
}): Promise<ChainInfo> {
  const [backups, verify] = await Promise.all([
    walg(options, ['backup-list', '--detail', '--json']),
    walg(options, ['wal-verify', 'integrity', 'timeline', '--json']),
  ]);
  return parseWalG(
    backups.trim() ? (JSON.parse(backups) as BackupJson[]) : [],
    JSON.parse(verify) as VerifyJson,
  );
}

/** Pure: WAL-G's JSON. */
export function parseWalG(list: BackupJson[], verify: VerifyJson): ChainInfo {
  const byName = new Map(list.map((backup) => [backup.backup_name, backup]));
  const priorOf = (name: string) => {
    const from = /_D_([0-9A-F]{24})$/.exec(name)?.[1];
    return from ? `base_${from}` : null;
  };
  // A delta's base is a full or another delta: base_<WAL> names either kind, so look for both.
  const resolve = (prior: string) =>
    byName.has(prior)
      ? prior
      : ([...byName.keys()].find((name) => name.startsWith(`${prior}_D_`)) ?? prior);
  const backups: ChainBackup[] = list.map((backup) => {
    const prior = priorOf(backup.backup_name);
    const references: string[] = [];
    for (let at = prior ? resolve(prior) : null; at;) {
      references.push(at);
      const next = byName.has(at) ? priorOf(at) : null;
      at = next ? resolve(next) : null;
    }
    const stopped = new Date(backup.finish_time ?? backup.time ?? 0);
    return {
      label: backup.backup_name,
      type: prior ? 'incr' : 'full',
      startedAt: new Date(backup.start_time ?? stopped),
      stoppedAt: stopped,
      prior: prior ? resolve(prior) : null,
      references,
      error: false,
      walStart: backup.wal_file_name ?? null,
      walStop: null,
    };
  });
  const details = verify.integrity?.details ?? [];
  const walVerify: WalVerify | null = verify.integrity
    ? {
        status: verify.integrity.status,
        lost: details
          .filter((range) => range.status === 'MISSING_LOST')
          .map((range) => ({
            start: range.start_segment,
            end: range.end_segment,
            count: range.segments_count,
          })),
        timeline: verify.timeline
          ? {
              status: verify.timeline.status,
              current: verify.timeline.details?.current_timeline_id ?? null,
              highest: verify.timeline.details?.highest_storage_timeline_id ?? null,
            }
          : null,
      }
    : null;
  return {
    stanza: 'WAL-G',
    status: { ok: true, message: 'ok' },
    backups: backups.sort((a, b) => a.stoppedAt.getTime() - b.stoppedAt.getTime()),
    segments: null,
    walVerify,
  };
}

async function walg(
  options: { command: readonly string[]; config?: string },
  args: string[],
): Promise<string> {
  const [file, ...pre] = options.command;
  const argv = [...pre, ...args, ...(options.config ? [`--config=${options.config}`] : [])];
  try {
    const { stdout } = await run(file!, argv, { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    return stdout;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new ProviderError(
      'WAL-G',
      `${[file, ...argv].join(' ')} failed: ${(stderr?.trim() || message).split('\n').at(-1)}`,
      false,
    );
  }
}
