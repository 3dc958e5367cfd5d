import type Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDITED_VOTES_SQL, hasAuditedVotes } from '../../src/engine/transitions.js';
import type { ApprovalRecord } from '../../src/store/approvals.js';
import {
  hashAuditRow,
  recordAuditEvent,
  recordAuditEvents,
  verifyAuditLog,
  type AuditRow,
} from '../../src/store/audit.js';
import { canonicalJson } from '../../src/store/canonical-json.js';
import { openStore, type SqliteStore } from '../../src/store/db.js';
import { nodeTsArgs } from '../support/node-ts.js';
import { makeTempDir } from '../support/tmp.js';

async function storeWithEvents(count: number): Promise<SqliteStore> {
  const store = openStore(path.join(makeTempDir(), 'lifeboat.db'));
  let tick = Date.parse('2026-11-24T03:00:00Z');
  await recordAuditEvents(
    store,
    Array.from({ length: count }, (_, i) => ({
      actor: i % 2 ? 'U0BOB' : 'U0ALICE',
      action: i % 2 ? 'approval.granted' : 'step.done',
      subject: 'r-42',
      details: { step: i, note: `event ${i + 1}` },
    })),
    () => new Date((tick += 1000)),
  );
  return store;
}

/** What an attacker with the sqlite3 shell does first: drop the append-only triggers. */
function tamper(db: Database.Database, sql: string, ...params: unknown[]): void {
  db.exec(
    'DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;',
  );
  db.prepare(sql).run(...params);
}

function row(db: Database.Database, seq: number): AuditRow {
  return db.prepare('SELECT * FROM audit_log WHERE seq = ?').get(seq) as AuditRow;
}

describe('the audit log', () => {
  it('verifies an intact chain and reports its length', async () => {
    const store = await storeWithEvents(10);
    const result = await verifyAuditLog(store);
    expect(result).toMatchObject({ ok: true, count: 10 });
    await store.close();
  });

  it('chains each event to the one before it', async () => {
    const store = await storeWithEvents(3);
    expect(row(store.db, 2).prev_hash).toBe(row(store.db, 1).hash);
    expect(row(store.db, 3).prev_hash).toBe(row(store.db, 2).hash);
    await store.close();
  });

  it('stores actor, action, subject, details and time by field', async () => {
    const store = openStore(path.join(makeTempDir(), 'lifeboat.db'));
    const written = await recordAuditEvent(
      store,
      {
        actor: 'U0ALICE',
        action: 'run.started',
        subject: 'r-1',
        details: { service: 'payments-db', kind: 'failover' },
      },
      () => new Date('2026-11-24T03:12:00Z'),
    );
    expect(row(store.db, 1)).toEqual(written);
    expect(written).toMatchObject({
      actor: 'U0ALICE',
      action: 'run.started',
      subject: 'r-1',
      at: '2026-11-24T03:12:00.000Z',
    });
    expect(JSON.parse(written.details)).toEqual({ kind: 'failover', service: 'payments-db' });
    await store.close();
  });

  it('refuses updates and deletes through SQL', async () => {
    const store = await storeWithEvents(2);
    expect(() =>
      store.db.prepare("UPDATE audit_log SET actor = 'U0MALLORY' WHERE seq = 1").run(),
    ).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_log WHERE seq = 1').run()).toThrow(
      /append-only/,
    );
    await store.close();
  });

  it('names an edited event', async () => {
    const store = await storeWithEvents(10);
    tamper(store.db, "UPDATE audit_log SET actor = 'U0MALLORY' WHERE seq = 4");
    expect(await verifyAuditLog(store)).toEqual({
      ok: false,
      count: 3,
      brokenAt: 4,
      reason: 'event #4 was edited: its content no longer matches its hash',
    });
    await store.close();
  });

  it('names an edited event whose hash was forged to match', async () => {
    const store = await storeWithEvents(10);
    const original = row(store.db, 6);
    const forged = { ...original, details: '{"note":"nothing to see","step":5}' };
    tamper(
      store.db,
      'UPDATE audit_log SET details = ?, hash = ? WHERE seq = 6',
      forged.details,
      hashAuditRow(forged.prev_hash, forged),
    );
    const result = await verifyAuditLog(store);
    expect(result).toMatchObject({ ok: false, brokenAt: 6 });
    expect(result.ok ? '' : result.reason).toBe(
      'event #6 was edited and its hash rewritten: event #7 no longer links to it',
    );
    await store.close();
  });

  it('names a deleted event', async () => {
    const store = await storeWithEvents(10);
    tamper(store.db, 'DELETE FROM audit_log WHERE seq = 5');
    const result = await verifyAuditLog(store);
    expect(result).toMatchObject({ ok: false, brokenAt: 5 });
    expect(result.ok ? '' : result.reason).toBe(
      'event #5 was deleted: the log jumps from #4 to #6',
    );
    await store.close();
  });

  it('notices events cut off the end of the log', async () => {
    const store = await storeWithEvents(10);
    tamper(store.db, 'DELETE FROM audit_log WHERE seq > 8');
    const result = await verifyAuditLog(store);
    expect(result).toMatchObject({ ok: false, brokenAt: 9 });
    expect(result.ok ? '' : result.reason).toContain('events after #8 were deleted');
    await store.close();
  });

  it('protects its head row: never deleted, never moved back', async () => {
    const store = await storeWithEvents(3);
    expect(() => store.db.prepare('DELETE FROM audit_head').run()).toThrow(
      'audit_head is append-only',
    );
    expect(() => store.db.prepare('UPDATE audit_head SET seq = 1').run()).toThrow(
      'audit_head only moves forward',
    );
    await store.close();
  });

  it("reads a step's approving votes through an index that holds only the votes", async () => {
    const store = await storeWithEvents(6);
    await recordAuditEvent(store, {
      actor: 'U0CAROL',
      action: 'approval.granted',
      subject: 'r-42',
      details: { approval: 'a-1' },
    });
    const approval = { id: 'a-1', runId: 'r-42', requestedBy: 'U0ALICE', required: 1 };
    expect(await hasAuditedVotes(store, approval as ApprovalRecord)).toBe(true);
    expect(await hasAuditedVotes(store, { ...approval, id: 'a-2' } as ApprovalRecord)).toBe(false);
    const plan = store.db.prepare(`EXPLAIN QUERY PLAN ${AUDITED_VOTES_SQL}`).all('r-42', 'a-1') as {
      detail: string;
    }[];
    expect(plan.map((step) => step.detail).join('\n')).toContain('USING INDEX audit_log_votes');
    const indexed = store.db
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_log'")
      .all() as { sql: string }[];
    expect(indexed.map((index) => index.sql)).toEqual([
      "CREATE INDEX audit_log_votes ON audit_log (subject) WHERE action = 'approval.granted'",
    ]);
    await store.close();
  });

  it('names a deleted event even when later events were renumbered to hide the gap', async () => {
    const store = await storeWithEvents(10);
    tamper(store.db, 'DELETE FROM audit_log WHERE seq = 5');
    store.db.prepare('UPDATE audit_log SET seq = seq - 1 WHERE seq > 5').run();
    const result = await verifyAuditLog(store);
    expect(result).toMatchObject({ ok: false, brokenAt: 5 });
    await store.close();
  });

  it('names reordered events', async () => {
    const store = await storeWithEvents(10);
    const third = row(store.db, 3);
    const fourth = row(store.db, 4);
    const put =
      'UPDATE audit_log SET at = ?, actor = ?, action = ?, subject = ?, details = ?, prev_hash = ?, hash = ? WHERE seq = ?';
    const fields = (r: AuditRow) => [
      r.at,
      r.actor,
      r.action,
      r.subject,
      r.details,
      r.prev_hash,
      r.hash,
    ];
    tamper(store.db, put, ...fields(fourth), 3);
    store.db.prepare(put).run(...fields(third), 4);
    const result = await verifyAuditLog(store);
    expect(result).toMatchObject({ ok: false, brokenAt: 3 });
    expect(result.ok ? '' : result.reason).toBe(
      'event #3 is out of order: it was written after event #4, not #2',
    );
    await store.close();
  });

  it('forms one chain when two processes append at the same time', async () => {
    const file = path.join(makeTempDir(), 'lifeboat.db');
    await openStore(file).close();
    const append = (actor: string) =>
      new Promise<number | null>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          nodeTsArgs('test/support/append-audit.ts', file, actor, '200'),
          { stdio: 'inherit' },
        );
        child.on('error', reject);
        child.on('exit', resolve);
      });
    expect(await Promise.all([append('U0ALICE'), append('U0BOB')])).toEqual([0, 0]);
    const store = openStore(file);
    expect(await verifyAuditLog(store)).toMatchObject({ ok: true, count: 400 });
    const actors = store.db
      .prepare('SELECT actor, COUNT(*) AS n FROM audit_log GROUP BY actor ORDER BY actor')
      .all();
    expect(actors).toEqual([
      { actor: 'U0ALICE', n: 200 },
      { actor: 'U0BOB', n: 200 },
    ]);
    await store.close();
  });
});

describe('hashAuditRow', () => {
  it('hashes exactly the canonical JSON of the row after the previous hash', () => {
    const row = {
      seq: 7,
      at: '2026-11-24T03:12:00.000Z',
      actor: 'U0"ALICE',
      action: 'run.started',
      subject: 'r-1\n',
      details: '{"a":1}',
    };
    const expected = createHash('sha256')
      .update('ab'.repeat(32))
      .update(canonicalJson(row))
      .digest('hex');
    expect(hashAuditRow('ab'.repeat(32), row)).toBe(expected);
  });
});
