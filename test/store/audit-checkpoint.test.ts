// Start-up verifies the audit chain from the last whole-chain verify on, so it does not grow with
// the log; the checkpoint itself cannot be moved back, deleted, or trusted once its event changed.

import { copyFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  auditCheckpoint,
  auditHead,
  recordAuditCheckpoint,
  recordAuditEvents,
  verifyAuditLog,
  verifyAuditLogSinceCheckpoint,
} from '../../src/store/audit.js';
import { openStore, type SqliteStore } from '../../src/store/db.js';
import { cli } from '../support/cli.js';
import { makeTempDir } from '../support/tmp.js';

const root = path.resolve(import.meta.dirname, '../..');
let tick = Date.parse('2026-11-24T03:00:00Z');

async function append(store: SqliteStore, count: number): Promise<void> {
  await recordAuditEvents(
    store,
    Array.from({ length: count }, (_, i) => ({
      actor: 'U0ALICE',
      action: 'step.done',
      subject: 'r-42',
      details: { step: i },
    })),
    () => new Date((tick += 1000)),
  );
}

function tamper(store: SqliteStore, seq: number): void {
  store.db.exec('DROP TRIGGER IF EXISTS audit_log_no_update');
  store.db.prepare("UPDATE audit_log SET actor = 'U0MALLORY' WHERE seq = ?").run(seq);
}

describe('the audit checkpoint', () => {
  it('lets start-up walk only what came after the last whole-chain verify', async () => {
    const store = openStore(path.join(makeTempDir(), 'lifeboat.db'));
    // A start on an empty log remembers nothing, and the next start still checks everything.
    await recordAuditCheckpoint(store, await auditHead(store), new Date('2026-11-24T02:00:00Z'));
    expect(await auditCheckpoint(store)).toBeNull();
    await append(store, 100);
    expect(await verifyAuditLogSinceCheckpoint(store)).toMatchObject({
      ok: true,
      count: 100,
      from: 0,
    });
    await recordAuditCheckpoint(store, await auditHead(store), new Date('2026-11-24T04:00:00Z'));
    await append(store, 10);
    expect(await verifyAuditLogSinceCheckpoint(store)).toMatchObject({
      ok: true,
      count: 110,
      from: 100,
    });

    tamper(store, 105);
    expect(await verifyAuditLogSinceCheckpoint(store)).toMatchObject({
      ok: false,
      brokenAt: 105,
      reason: 'event #105 was edited: its content no longer matches its hash',
    });
    await store.close();
  });

  it('is not trusted once its own event changed, and never moves back or disappears', async () => {
    const store = openStore(path.join(makeTempDir(), 'lifeboat.db'));
    await append(store, 20);
    await recordAuditCheckpoint(store, await auditHead(store), new Date('2026-11-24T04:00:00Z'));
    tamper(store, 20);
    expect(await verifyAuditLogSinceCheckpoint(store)).toMatchObject({
      ok: false,
      brokenAt: 20,
      reason:
        'event #20, verified intact on 2026-11-24, was edited since: run lifeboat audit verify',
    });
    // What happened before the checkpoint is the whole-chain verify's to find.
    expect(await verifyAuditLog(store)).toMatchObject({ ok: false, brokenAt: 20 });

    await recordAuditCheckpoint(store, { seq: 5, hash: 'f'.repeat(64) }, new Date());
    expect((await auditCheckpoint(store))?.seq).toBe(20); // an older point is ignored
    expect(() => store.db.prepare('UPDATE audit_checkpoint SET seq = 1').run()).toThrow(
      'audit_checkpoint only moves forward',
    );
    expect(() => store.db.prepare('DELETE FROM audit_checkpoint').run()).toThrow(
      'audit_checkpoint is append-only',
    );
    await store.close();
  });

  it('is moved by lifeboat audit verify, and check config then checks only what is new', async () => {
    const dir = makeTempDir();
    copyFileSync(path.join(root, 'lifeboat.example.yml'), path.join(dir, 'lifeboat.yml'));
    symlinkSync(path.join(root, 'runbooks'), path.join(dir, 'runbooks'));
    const env = { LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml') };
    const store = openStore(path.join(dir, 'lifeboat.db'));
    await append(store, 30);
    expect((await cli(['check', 'config'], env)).stdout).toMatch(
      /^ok {4}store {7}.*\(schema \d+, 30 audit events, all checked\)$/m,
    );
    expect((await cli(['audit', 'verify'], env)).code).toBe(0);
    await append(store, 5);
    await store.close();
    expect((await cli(['check', 'config'], env)).stdout).toMatch(
      /^ok {4}store {7}.*\(schema \d+, 35 audit events, checked from #30, verified before\)$/m,
    );
  });
});
