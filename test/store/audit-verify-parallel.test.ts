// `lifeboat audit verify` in worker threads on a SQLite store: the same verdicts as the one-thread
// walk — intact, an edited event, a deleted one, events appended after the head it read.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordAuditEvents, verifyAuditLog } from '../../src/store/audit.js';
import { verifyAuditLogParallel } from '../../src/store/audit-verify-parallel.js';
import { verifyRange } from '../../src/store/audit-verify-worker.js';
import { openStore } from '../../src/store/db.js';
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
    expect(verifyRange({ file, from: 1, to: 3000 })).toMatchObject({ count: 3000, brokenAt: null });
    // Each verdict from the workers themselves, never from the one-thread walk behind them.
    const fellBack: string[] = [];
    const parallel = () =>
      verifyAuditLogParallel(store, file, {
        workers: 3,
        parallelFrom: 1,
        onOneThread: (why) => fellBack.push(why),
      });
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
      expect(verifyRange({ file, ...range })).toMatchObject({ brokenAt: seq });
      const again = await parallel();
      expect(again).toEqual(await verifyAuditLog(store));
      expect(again).toMatchObject({ ok: false, brokenAt: 768 }); // the first gap
    }
    expect(fellBack).toEqual([]);
    await store.close();
  });

  it('recomputes from SQLite’s JSON the hashes written from JavaScript’s, whatever characters the events hold', async () => {
    // The workers hash text SQLite writes (json_object); the events were hashed from text
    // JSON.stringify wrote. Every character in the first plane (but lone surrogates, which no
    // store keeps), astral ones, quotes, backslashes, line separators: in a subject, an actor, a
    // detail. A difference would show as a break in an intact log.
    const characters: string[] = [];
    for (let code = 0; code <= 0xffff; code++)
      if (code < 0xd800 || code > 0xdfff) characters.push(String.fromCharCode(code));
    const pieces: string[] = [];
    for (let at = 0; at < characters.length; at += 1024)
      pieces.push(characters.slice(at, at + 1024).join(''));
    pieces.push('😀 a\u{1F600}b \u2028\u2029 "quoted" \\ {"json":"inside"} \n\t');
    const file = path.join(makeTempDir(), 'lifeboat.db');
    const store = openStore(file);
    await recordAuditEvents(
      store,
      pieces.map((piece, index) => ({
        actor: index % 2 ? piece.slice(0, 40) : 'U0ALICE',
        action: 'step.note',
        subject: piece,
        details: { note: piece, step: index, nested: { text: piece.slice(-100) } },
      })),
    );
    expect(await verifyAuditLog(store)).toMatchObject({ ok: true, count: pieces.length });
    expect(verifyRange({ file, from: 1, to: pieces.length })).toMatchObject({
      count: pieces.length,
      brokenAt: null,
    });
    await store.close();
  });

  it('says why when its workers cannot run, and still gives the verdict, walked on one thread', async () => {
    const { store } = await storeWith(3000);
    const said: string[] = [];
    const result = await verifyAuditLogParallel(store, '/nonexistent/folder/lifeboat.db', {
      workers: 2,
      parallelFrom: 1,
      onOneThread: (why) => said.push(why),
    });
    expect(result).toMatchObject({ ok: true, count: 3000 });
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/directory does not exist|unable to open/i);
    await store.close();
  });
});
