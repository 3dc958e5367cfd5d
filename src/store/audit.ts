// The append-only, hash-chained audit log: every decision lifeboat takes or is asked to take.
// Each event's hash covers its content and its predecessor's hash, so an edited, deleted or
// reordered event breaks the chain at a place verifyAuditLog can name.

import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { Db } from './db.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEvent {
  /** Who: a Slack user ID, `system`, `cli:<os user>`, ... */
  actor: string;
  /** What, as a dotted verb: `run.started`, `approval.refused`, `step.done`. */
  action: string;
  /** On what: a run id, `service:payments-db`, ... */
  subject: string;
  details?: Record<string, unknown>;
}

export interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: string;
  prev_hash: string;
  hash: string;
}

export type AuditVerification =
  | { ok: true; count: number; headHash: string }
  | { ok: false; count: number; brokenAt: number; reason: string };

/** Appends one event in its own transaction; returns its row. */
export function recordAuditEvent(
  db: Db,
  event: AuditEvent,
  clock: () => Date = () => new Date(),
): AuditRow {
  const [row] = recordAuditEvents(db, [event], clock);
  return row as AuditRow;
}

/**
 * Appends events in one transaction. IMMEDIATE takes the write lock before reading the head, so
 * two processes appending at once still form one chain.
 */
export function recordAuditEvents(
  db: Db,
  events: readonly AuditEvent[],
  clock: () => Date = () => new Date(),
): AuditRow[] {
  const head = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const insert = db.prepare(
    `INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const moveHead = db.prepare(
    `INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)
     ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
  );
  return db
    .transaction(() => {
      const last = head.get() as { seq: number; hash: string } | undefined;
      let seq = last?.seq ?? 0;
      let prevHash = last?.hash ?? GENESIS_HASH;
      const at = clock().toISOString();
      const rows = events.map((event) => {
        seq += 1;
        const content = {
          seq,
          at,
          actor: event.actor,
          action: event.action,
          subject: event.subject,
          details: canonicalJson(event.details ?? {}),
        };
        const row: AuditRow = {
          ...content,
          prev_hash: prevHash,
          hash: hashAuditRow(prevHash, content),
        };
        insert.run(
          row.seq,
          row.at,
          row.actor,
          row.action,
          row.subject,
          row.details,
          row.prev_hash,
          row.hash,
        );
        prevHash = row.hash;
        return row;
      });
      if (rows.length > 0) moveHead.run(seq, prevHash);
      return rows;
    })
    .immediate();
}

/** sha256(previous hash + canonical JSON of the row's content). */
export function hashAuditRow(
  prevHash: string,
  row: Pick<AuditRow, 'seq' | 'at' | 'actor' | 'action' | 'subject' | 'details'>,
): string {
  return hashAuditFields(
    prevHash,
    row.seq,
    row.at,
    row.actor,
    row.action,
    row.subject,
    row.details,
  );
}

function hashAuditFields(
  prevHash: string,
  seq: number,
  at: string,
  actor: string,
  action: string,
  subject: string,
  details: string,
): string {
  // canonicalJson of the row, written out by hand on this hot path (keys in sorted order); a test
  // holds it equal to canonicalJson.
  const content =
    `{"action":${JSON.stringify(action)},"actor":${JSON.stringify(actor)},"at":${JSON.stringify(at)},` +
    `"details":${JSON.stringify(details)},"seq":${seq},"subject":${JSON.stringify(subject)}}`;
  return createHash('sha256').update(prevHash).update(content).digest('hex');
}

/** How far a whole-chain verify got intact: start-up walks on from there. Null before the first. */
export function auditCheckpoint(db: Db): { seq: number; hash: string; verifiedAt: string } | null {
  const row = db
    .prepare('SELECT seq, hash, verified_at AS verifiedAt FROM audit_checkpoint WHERE id = 1')
    .get() as { seq: number; hash: string; verifiedAt: string } | undefined;
  return row ?? null;
}

/** After a verify found the chain intact up to `head`: start-up need not walk it again. */
export function recordAuditCheckpoint(db: Db, head: { seq: number; hash: string }, at: Date): void {
  if (head.seq === 0) return; // an empty log: nothing to remember
  db.prepare(
    `INSERT INTO audit_checkpoint (id, seq, hash, verified_at) VALUES (1, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
       verified_at = excluded.verified_at WHERE excluded.seq >= audit_checkpoint.seq`,
  ).run(head.seq, head.hash, at.toISOString());
}

/**
 * What start-up verifies: from the checkpoint — its event still there and unchanged — to the head,
 * so start-up does not grow with the log. The whole chain is walked by `lifeboat audit verify` and
 * the daily `audit` check, which move the checkpoint.
 */
export function verifyAuditLogSinceCheckpoint(db: Db): AuditVerification & { from: number } {
  const checkpoint = auditCheckpoint(db);
  if (!checkpoint || checkpoint.seq === 0) return { ...verifyAuditLog(db), from: 0 };
  const row = db.prepare('SELECT * FROM audit_log WHERE seq = ?').get(checkpoint.seq) as
    AuditRow | undefined;
  if (!row || row.hash !== checkpoint.hash || hashAuditRow(row.prev_hash, row) !== row.hash)
    return {
      ok: false,
      count: checkpoint.seq - 1,
      brokenAt: checkpoint.seq,
      reason: `event #${checkpoint.seq}, verified intact on ${checkpoint.verifiedAt.slice(0, 10)}, was ${row ? 'edited' : 'deleted'} since: run lifeboat audit verify`,
      from: checkpoint.seq,
    };
  return { ...verifyAuditLog(db, checkpoint), from: checkpoint.seq };
}

/** The newest event's number and hash, as the head row records them (what gets published). */
export function auditHead(db: Db): { seq: number; hash: string } {
  const head = db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as
    { seq: number; hash: string } | undefined;
  return head ?? { seq: 0, hash: GENESIS_HASH };
}

/**
 * Whether a hash remembered earlier (published in the channel, in the backups bucket) is still an
 * event of the chain: with an intact chain, this proves nothing was cut off after it.
 */
export function findAuditHash(db: Db, hash: string): number | null {
  const row = db.prepare('SELECT seq FROM audit_log WHERE hash = ?').get(hash.toLowerCase()) as
    { seq: number } | undefined;
  return row?.seq ?? null;
}

type RawAuditRow = [number, string, string, string, string, string, string, string];

/**
 * Walks the chain once, in order, holding one event at a time (constant memory whatever the log's
 * length); names the first event that was edited, deleted or reordered. From the start, or from
 * `from`: an event already proven (a checkpoint), whose successors are walked.
 */
export function verifyAuditLog(
  db: Db,
  from: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH },
): AuditVerification {
  let previous = from;
  let count = from.seq;
  let broken: AuditRow | null = null;
  const rows = db
    .prepare(
      'SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq',
    )
    .raw()
    .iterate(from.seq) as IterableIterator<RawAuditRow>;
  for (const [seq, at, actor, action, subject, details, prevHash, hash] of rows) {
    if (
      seq !== previous.seq + 1 ||
      prevHash !== previous.hash ||
      hashAuditFields(prevHash, seq, at, actor, action, subject, details) !== hash
    ) {
      broken = { seq, at, actor, action, subject, details, prev_hash: prevHash, hash };
      rows.return?.();
      break;
    }
    previous = { seq, hash };
    count += 1;
  }
  if (broken) {
    // Only now, with the walk closed, look up where the broken event links to.
    const problem = findBreak(broken, previous, (linked) => findAuditHash(db, linked))!;
    return { ok: false, count, ...problem };
  }
  const head = db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as
    { seq: number; hash: string } | undefined;
  if (!head && count > 0) {
    return {
      ok: false,
      count,
      brokenAt: previous.seq,
      reason: `the log's head row is missing: it is written with every event, so someone deleted it (and perhaps events after #${previous.seq})`,
    };
  }
  if (head && (head.seq !== previous.seq || head.hash !== previous.hash)) {
    return {
      ok: false,
      count,
      brokenAt: previous.seq + 1,
      reason: `events after #${previous.seq} were deleted: the log's head records event #${head.seq}`,
    };
  }
  return { ok: true, count, headHash: previous.hash };
}

function findBreak(
  row: AuditRow,
  previous: { seq: number; hash: string },
  seqOfHash: (hash: string) => number | null,
): { brokenAt: number; reason: string } | null {
  const expectedSeq = previous.seq + 1;
  if (row.seq !== expectedSeq) {
    const gap = row.seq - expectedSeq === 1 ? `#${expectedSeq}` : `#${expectedSeq}–#${row.seq - 1}`;
    return {
      brokenAt: expectedSeq,
      reason: `event ${gap} was deleted: the log jumps from #${previous.seq} to #${row.seq}`,
    };
  }
  const contentMatches = hashAuditRow(row.prev_hash, row) === row.hash;
  const linked = row.prev_hash === previous.hash;
  if (linked && contentMatches) return null;
  if (linked) {
    return {
      brokenAt: row.seq,
      reason: `event #${row.seq} was edited: its content no longer matches its hash`,
    };
  }
  const linkedTo = seqOfHash(row.prev_hash);
  if (linkedTo !== null) {
    return {
      brokenAt: row.seq,
      reason: `event #${row.seq} is out of order: it was written after event #${linkedTo}, not #${previous.seq}`,
    };
  }
  if (contentMatches && previous.seq > 0) {
    return {
      brokenAt: previous.seq,
      reason: `event #${previous.seq} was edited and its hash rewritten: event #${row.seq} no longer links to it`,
    };
  }
  return {
    brokenAt: row.seq,
    reason: `event #${row.seq} links to an event that is no longer in the log: events before it were deleted or renumbered`,
  };
}
