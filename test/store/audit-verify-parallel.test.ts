// `lifeboat audit verify` in worker threads on a SQLite store: the same verdicts as the one-thread
// walk — intact, an edited event, a deleted one, events appended after the head it read.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  auditHead,
  GENESIS_HASH,
  quickWalk,
  recordAuditEvents,
  verifyAuditLog,
} from '../../src/store/audit.js';
import { verifyAuditLogParallel } from '../../src/store/audit-verify-parallel.js';
import { verifyRange } from '../../src/store/audit-verify-worker.js';
import { openStore } from '../../src/store/db.js';
import { awkwardEvents } from '../support/awkward-text.js';
import { makeTempDir } from '../support/tmp.js';

async function storeWith(events: number) {
  const file = path.join(makeTempDir(), 'lifeboat.db');
  const store = openStore(file);
  let tick = Date.parse('2026-11-24T00:00:00Z');
  for (let done = 0; done < events; done += 1000)
    await recordAuditEvents(
      store,
      Array.from({ length: Math.min(1000, events - done) }, (_, i) => ({
        actor: 'system',
        action: 'step.done',
        subject: `r-${done + i}`,
        details: { step: i % 7 },
      })),
      () => new Date((tick += 1000)),
    );
  return { file, store };
}

describe('audit verify in worker threads', () => {
  it('gives the one-thread walk’s verdicts: intact, edited, deleted, and events appended meanwhile', async () => {
    const { file, store } = await storeWith(6000);
    // A worker's range on its own: every event recomputed, the ends handed back for stitching.
    expect(verifyRange(file, { from: 1, to: 3000 })).toMatchObject({ count: 3000, brokenAt: null });
    // Each verdict from the workers themselves, never from the one-thread walk behind them.
    const fellBack: string[] = [];
    const parallel = () =>
      verifyAuditLogParallel(
        store,
        { kind: 'sqlite', file },
        {
          workers: 3,
          parallelFrom: 1,
          onOneThread: (why) => fellBack.push(why),
        },
      );
    expect(await parallel()).toEqual(await verifyAuditLog(store));
    expect(await parallel()).toMatchObject({ ok: true, count: 6000 });

    // Appended after the head was read: walked on from it.
    await recordAuditEvents(store, [{ actor: 'system', action: 'step.done', subject: 'r-late' }]);
    expect(await parallel()).toMatchObject({ ok: true, count: 6001 });

    // Someone with the database file, past the append-only triggers.
    store.db.exec(
      'DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete',
    );
    store.db.prepare('UPDATE audit_log SET details = \'{"step":99}\' WHERE seq = 4321').run();
    const edited = await parallel();
    expect(edited).toEqual(await verifyAuditLog(store));
    expect(edited).toMatchObject({ ok: false, brokenAt: 4321 });

    store.db.prepare('UPDATE audit_log SET details = \'{"step":5}\' WHERE seq = 4321').run();
    expect(await parallel()).toMatchObject({ ok: true });
    store.db.prepare('DELETE FROM audit_log WHERE seq = 2000').run();
    const deleted = await parallel();
    expect(deleted).toEqual(await verifyAuditLog(store));
    expect(deleted).toMatchObject({ ok: false, brokenAt: 2000 });

    // A range reads its rows a chunk (256) at a time: a gap at either side of a chunk's edge is
    // still the first event that does not hold, and so is one missing at the range's end.
    const cases = [
      { seq: 768, range: { from: 513, to: 1999 } }, // the last of a chunk
      { seq: 1025, range: { from: 769, to: 1999 } }, // the first of the next
      { seq: 3000, range: { from: 2001, to: 3000 } }, // the range's last
    ];
    for (const { seq, range } of cases) {
      store.db.prepare('DELETE FROM audit_log WHERE seq = ?').run(seq);
      expect(verifyRange(file, range)).toMatchObject({ brokenAt: seq });
      const again = await parallel();
      expect(again).toEqual(await verifyAuditLog(store));
      expect(again).toMatchObject({ ok: false, brokenAt: 768 }); // the first gap
    }
    expect(fellBack).toEqual([]);
    await store.close();
  });

  it('recomputes from SQLite’s JSON the hashes written from JavaScript’s, whatever characters the events hold', async () => {
    // The workers hash text SQLite writes (json_object); the events were hashed from text
    // JSON.stringify wrote. A difference would show as a break in an intact log.
    const events = awkwardEvents({ withNul: true });
    const file = path.join(makeTempDir(), 'lifeboat.db');
    const store = openStore(file);
    await recordAuditEvents(store, events);
    const head = await auditHead(store);
    expect(await verifyAuditLog(store)).toMatchObject({ ok: true, count: events.length });
    expect(verifyRange(file, { from: 1, to: events.length })).toMatchObject({
      count: events.length,
      brokenAt: null,
      lastHash: head.hash,
    });
    // The one-thread walk's quick part proves them all too, with nothing left to the exact walk.
    expect(await quickWalk(store, { seq: 0, hash: GENESIS_HASH })).toEqual(head);
    await store.close();
  });

  it('says why when its workers cannot run, and still gives the verdict, walked on one thread', async () => {
    const { store } = await storeWith(3000);
    const said: string[] = [];
    const result = await verifyAuditLogParallel(
      store,
      { kind: 'sqlite', file: '/nonexistent/folder/lifeboat.db' },
      {
        workers: 2,
        parallelFrom: 1,
        onOneThread: (why) => said.push(why),
      },
    );
    expect(result).toMatchObject({ ok: true, count: 3000 });
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/directory does not exist|unable to open/i);
    await store.close();
  });
});
