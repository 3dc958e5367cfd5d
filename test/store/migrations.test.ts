import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { recordAuditEvent, verifyAuditLog } from '../../src/store/audit.js';
import { openStore } from '../../src/store/db.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { parseRunbook } from '../../src/runbook/parse.js';
import { getRunbookSnapshot, insertRun, listRuns } from '../../src/store/runs.js';
import { nodeTsArgs } from '../support/node-ts.js';
import { waitFor } from '../support/pg-pair.js';
import { makeTempDir } from '../support/tmp.js';

const runbook = parseRunbook('# Drill\n- Check the dashboards', 'runbooks/drill.md');

/** A run as a store of an older schema holds it (the columns every version has had). */
function insertOldRun(db: Database.Database, id: string, kind: string): void {
  db.prepare(
    `INSERT INTO runs (id, runbook, runbook_file, runbook_snapshot, service, kind, status, started_by, started_at, impact_at)
     VALUES (?, 'drill', 'runbooks/drill.md', ?, 'payments-db', ?, 'running', 'U0ALICE', '2026-11-01T10:00:00Z', '2026-11-01T10:00:00Z')`,
  ).run(id, JSON.stringify(runbook), kind);
}

describe('the store', () => {
  it('is created with WAL, foreign keys and every migration applied', async () => {
    const file = path.join(makeTempDir(), 'lifeboat.db');
    const store = openStore(file);
    expect(store.version).toBe(MIGRATIONS.at(-1)!.version);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    const tables = (
      store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
        name: string;
      }[]
    ).map((t) => t.name);
    expect(tables).toEqual(
      expect.arrayContaining([
        'runs',
        'step_events',
        'approvals',
        'approval_votes',
        'notes',
        'audit_log',
        'check_results',
        'schedule_leases',
        'schema_migrations',
      ]),
    );
    await store.close();
  });

  it('records each migration once, and reopening applies nothing twice', async () => {
    const file = path.join(makeTempDir(), 'lifeboat.db');
    await openStore(file).close();
    const store = openStore(file);
    const rows = store.db
      .prepare('SELECT version FROM schema_migrations ORDER BY version')
      .all() as { version: number }[];
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await store.close();
  });

  it('upgrades a store written by an older lifeboat in place, keeping its runs', async () => {
    const file = path.join(makeTempDir(), 'lifeboat.db');
    const old = openStore(file, { migrations: MIGRATIONS.slice(0, 1) });
    expect(old.version).toBe(1);
    insertOldRun(old.db, 'r-1', 'drill');
    await old.close();

    const upgraded = openStore(file);
    expect(upgraded.version).toBe(MIGRATIONS.at(-1)!.version);
    expect((await listRuns(upgraded)).map((run) => run.id)).toEqual(['r-1']);
    expect(await getRunbookSnapshot(upgraded, 'r-1')).toEqual(runbook);
    await recordAuditEvent(upgraded, {
      actor: 'system',
      action: 'store.upgraded',
      subject: 'store',
    });
    expect(await verifyAuditLog(upgraded)).toMatchObject({ ok: true, count: 1 });
    await upgraded.close();
  });

  it('keeps one copy of each runbook snapshot when version 15 moves them out of the runs', async () => {
    const file = path.join(makeTempDir(), 'lifeboat.db');
    const old = openStore(file, { migrations: MIGRATIONS.filter((m) => m.version <= 14) });
    insertOldRun(old.db, 'r-1', 'drill');
    insertOldRun(old.db, 'r-2', 'drill');
    const edited = parseRunbook(
      '# Drill\n- Check the dashboards\n- Page the DBA',
      'runbooks/drill.md',
    );
    old.db
      .prepare("UPDATE runs SET runbook_snapshot = ? WHERE id = 'r-2'")
      .run(JSON.stringify(edited));
    insertOldRun(old.db, 'r-3', 'drill');
    await old.close();

    const upgraded = openStore(file);
    const snapshots = () =>
      (upgraded.db.prepare('SELECT count(*) AS n FROM runbook_snapshots').get() as { n: number }).n;
    expect(snapshots()).toBe(2);
    expect(await getRunbookSnapshot(upgraded, 'r-1')).toEqual(runbook);
    expect(await getRunbookSnapshot(upgraded, 'r-2')).toEqual(edited);
    expect(await getRunbookSnapshot(upgraded, 'r-3')).toEqual(runbook);
    // A new run of an unchanged runbook shares the copy; the copies cannot be altered.
    const at = new Date('2026-11-02T10:00:00Z');
    await insertRun(upgraded, {
      id: 'r-4',
      runbook: edited,
      service: 'payments-db',
      kind: 'drill',
      startedBy: 'U0ALICE',
      startedAt: at,
      impactAt: at,
      idempotencyKey: 'k-4',
    });
    expect(snapshots()).toBe(2);
    expect(await getRunbookSnapshot(upgraded, 'r-4')).toEqual(edited);
    expect(() => upgraded.db.prepare("UPDATE runbook_snapshots SET body = '{}'").run()).toThrow(
      /append-only/,
    );
    await upgraded.close();
  });

  it('keeps every run, step, approval and vote when version 7 rebuilds the runs tables', async () => {
    const file = path.join(makeTempDir(), 'lifeboat.db');
    const old = openStore(file, { migrations: MIGRATIONS.filter((m) => m.version <= 6) });
    insertOldRun(old.db, 'r-fb', 'failback');
    old.db
      .prepare(
        "INSERT INTO run_steps (run_id, step_index, state, waiting_on) VALUES ('r-fb', 0, 'active', 'approval')",
      )
      .run();
    old.db
      .prepare(
        "INSERT INTO approvals (id, run_id, step_index, gate, requested_by, requested_at, expires_at, required, status) VALUES ('a-1', 'r-fb', 0, 'two-person', 'U0ALICE', '2026-11-01T10:00:00Z', '2026-11-01T10:15:00Z', 1, 'pending')",
      )
      .run();
    await old.close();

    const upgraded = openStore(file);
    const db = upgraded.db;
    expect(db.prepare('SELECT id, kind, promote FROM runs').all()).toEqual([
      { id: 'r-fb', kind: 'failback', promote: 'primary' },
    ]);
    expect(db.prepare('SELECT waiting_on FROM run_steps').all()).toEqual([
      { waiting_on: 'approval' },
    ]);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // References still hold after the rebuild: a step of a run that does not exist is refused.
    expect(() =>
      db
        .prepare(
          "INSERT INTO run_steps (run_id, step_index, state) VALUES ('r-none', 0, 'pending')",
        )
        .run(),
    ).toThrow(/FOREIGN KEY/);
    await upgraded.close();
  });

  it('is migrated once when several instances open a new store at the same moment', async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'lifeboat.db');
    const go = path.join(dir, 'go');
    const children = Array.from({ length: 4 }, () => {
      const child = spawn(
        process.execPath,
        nodeTsArgs('test/support/open-store-child.ts', file, go),
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      return {
        ready: () => out.startsWith('READY\n'),
        done: new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
          child.on('exit', (code) => resolve({ code, out: out.replace('READY\n', ''), err })),
        ),
      };
    });
    await waitFor(() => children.every((child) => child.ready()), 'all four to be waiting');
    writeFileSync(go, '');
    const latest = MIGRATIONS.at(-1)!.version;
    for (const result of await Promise.all(children.map((child) => child.done)))
      expect(result).toEqual({ code: 0, out: `${latest}\n`, err: '' });
    const store = openStore(file);
    expect(
      store.db
        .prepare('SELECT version, count(*) AS n FROM schema_migrations GROUP BY version')
        .all(),
    ).toEqual(MIGRATIONS.map((m) => ({ version: m.version, n: 1 })));
    await store.close();
  });

  it('refuses a store written by a newer lifeboat, and leaves it untouched', async () => {
    const file = path.join(makeTempDir(), 'lifeboat.db');
    await openStore(file).close();
    const raw = new Database(file);
    raw
      .prepare(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', '2030-01-01')",
      )
      .run();
    raw.close();
    expect(() => openStore(file)).toThrow(StoreError);
    expect(() => openStore(file)).toThrow(
      `was written by a newer lifeboat (schema version 99; this lifeboat knows up to ${MIGRATIONS.at(-1)!.version})`,
    );
    const check = new Database(file);
    expect(check.prepare('SELECT MAX(version) AS v FROM schema_migrations').get()).toEqual({
      v: 99,
    });
    check.close();
  });

  it('refuses a file that is not a SQLite database', () => {
    const file = path.join(makeTempDir(), 'notes.txt');
    writeFileSync(file, 'these are not the tables you are looking for\n'.repeat(100));
    expect(() => openStore(file)).toThrow(/is not a SQLite database/);
  });

  it('never records a run whose impact time is after its start', async () => {
    const store = openStore(path.join(makeTempDir(), 'lifeboat.db'));
    await expect(
      insertRun(store, {
        id: 'r-2',
        runbook,
        service: null,
        kind: 'drill',
        startedBy: 'U0ALICE',
        startedAt: new Date('2026-11-01T10:00:00Z'),
        impactAt: new Date('2026-11-01T10:05:00Z'),
        idempotencyKey: null,
      }),
    ).rejects.toThrow(/CHECK constraint failed/);
    await store.close();
  });
});
