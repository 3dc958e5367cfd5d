// The append-only, hash-chained audit log: every decision lifeboat takes or is asked to take.
// Each event's hash covers its content and its predecessor's hash, so an edited, deleted or
// reordered event breaks the chain at a place verifyAuditLog can name.

import { hash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { Sql } from './db.js';

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
export async function recordAuditEvent(
  db: Sql,
  event: AuditEvent,
  clock: () => Date = () => new Date(),
): Promise<AuditRow> {
  const [row] = await recordAuditEvents(db, [event], clock);
  return row!;
}

/**
 * Appends events in one transaction, which holds the write lock before it reads the head, so two
 * processes appending at once still form one chain.
 */
export function recordAuditEvents(
  db: Sql,
  events: readonly AuditEvent[],
  clock: () => Date = () => new Date(),
): Promise<AuditRow[]> {
  return db.transaction(async () => {
    const last = await db.get<{ seq: number; hash: string }>(
      'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
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
      prevHash = row.hash;
      return row;
    });
    for (const row of rows)
      await db.run(
        `INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        row.seq,
        row.at,
        row.actor,
        row.action,
        row.subject,
        row.details,
        row.prev_hash,
        row.hash,
      );
    if (rows.length > 0)
      await db.run(
        `INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)
           ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
        seq,
        prevHash,
      );
    return rows;
  });
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
  // One-shot hash(): half the time of a Hash object per event, the same digest.
  return hash('sha256', prevHash + content);
}

/**
 * The text hashAuditFields hashes (the previous hash and the row's canonical JSON), written by
 * SQLite: the JSON built in C costs a third of building it in JavaScript. SQLite escapes strings
 * as JSON.stringify does (a test holds the two equal for every character); a row where they
 * differed would only look broken, and the walk in JavaScript would then give the verdict.
 * (PostgreSQL's to_json costs its server ~1 µs an event and makes the rows slower to fetch than
 * the columns: there the text stays JavaScript's.)
 */
export const HASHED_TEXT_SQL = `prev_hash || json_object('action', action, 'actor', actor, 'at', at, 'details', details, 'seq', seq, 'subject', subject)`;

/** How far a whole-chain verify got intact: start-up walks on from there. Null before the first. */
export async function auditCheckpoint(
  db: Sql,
): Promise<{ seq: number; hash: string; verifiedAt: string } | null> {
  const row = await db.get<{ seq: number; hash: string; verifiedAt: string }>(
    'SELECT seq, hash, verified_at AS "verifiedAt" FROM audit_checkpoint WHERE id = 1',
  );
  return row ?? null;
}

/** After a verify found the chain intact up to `head`: start-up need not walk it again. */
export async function recordAuditCheckpoint(
  db: Sql,
  head: { seq: number; hash: string },
  at: Date,
): Promise<void> {
  if (head.seq === 0) return; // an empty log: nothing to remember
  await db.run(
    `INSERT INTO audit_checkpoint (id, seq, hash, verified_at) VALUES (1, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
       verified_at = excluded.verified_at WHERE excluded.seq >= audit_checkpoint.seq`,
    head.seq,
    head.hash,
    at.toISOString(),
  );
}

/**
 * What start-up verifies: from the checkpoint — its event still there and unchanged — to the head,
 * so start-up does not grow with the log. The whole chain is walked by `lifeboat audit verify` and
 * the daily `audit` check, which move the checkpoint.
 */
export async function verifyAuditLogSinceCheckpoint(
  db: Sql,
): Promise<AuditVerification & { from: number }> {
  const checkpoint = await auditCheckpoint(db);
  if (!checkpoint || checkpoint.seq === 0) return { ...(await verifyAuditLog(db)), from: 0 };
  const row = await db.get<AuditRow>('SELECT * FROM audit_log WHERE seq = ?', checkpoint.seq);
  if (!row || row.hash !== checkpoint.hash || hashAuditRow(row.prev_hash, row) !== row.hash)
    return {
      ok: false,
      count: checkpoint.seq - 1,
      brokenAt: checkpoint.seq,
      reason: `event #${checkpoint.seq}, verified intact on ${checkpoint.verifiedAt.slice(0, 10)}, was ${row ? 'edited' : 'deleted'} since: run lifeboat audit verify`,
      from: checkpoint.seq,
    };
  return { ...(await verifyAuditLog(db, checkpoint)), from: checkpoint.seq };
}

/** The newest event's number and hash, as the head row records them (what gets published). */
export async function auditHead(db: Sql): Promise<{ seq: number; hash: string }> {
  const head = await db.get<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_head WHERE id = 1',
  );
  return head ?? { seq: 0, hash: GENESIS_HASH };
}

/**
 * Whether a hash remembered earlier (published in the channel, in the backups bucket) is still an
 * event of the chain: with an intact chain, this proves nothing was cut off after it.
 */
export async function findAuditHash(db: Sql, hash: string): Promise<number | null> {
  const row = await db.get<{ seq: number }>(
    'SELECT seq FROM audit_log WHERE hash = ?',
    hash.toLowerCase(),
  );
  return row?.seq ?? null;
}

/** Events read per query while verifying: memory stays flat whatever the log's length. */
const VERIFY_BATCH = 5000;

/**
 * Walks the chain once, in order, holding one event at a time (constant memory whatever the log's
 * length); names the first event that was edited, deleted or reordered. From the start, or from
 * `from`: an event already proven (a checkpoint), whose successors are walked.
 */
export async function verifyAuditLog(
  db: Sql,
  from: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH },
): Promise<AuditVerification> {
  // What the quick walk proved is not read again: for an intact log, everything.
  let previous = await quickWalk(db, from);
  let count = previous.seq;
  let broken: AuditRow | null = null;
  let after = previous.seq;
  for (;;) {
    // Batches by position (seq > last seen), never OFFSET: each query starts where the last ended.
    const rows = await db.all<AuditRow>(
      'SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?',
      after,
      VERIFY_BATCH,
    );
    for (const row of rows) {
      if (!follows(row, previous)) {
        broken = row;
        break;
      }
      previous = { seq: row.seq, hash: row.hash };
      count += 1;
    }
    if (broken || rows.length < VERIFY_BATCH) break;
    after = rows.at(-1)!.seq;
  }
  if (broken) {
    const linkedTo = await findAuditHash(db, broken.prev_hash);
    const problem = findBreak(broken, previous, linkedTo)!;
    return { ok: false, count, ...problem };
  }
  const head = await db.get<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_head WHERE id = 1',
  );
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

/**
 * The quick part of verifyAuditLog. On SQLite the database writes each event's text
 * (HASHED_TEXT_SQL) and this process hashes it; on PostgreSQL the next batch is asked for before
 * this one is hashed, so the server reads while this process hashes. It stops at the first event
 * that does not hold — or whose text SQLite wrote otherwise than JSON.stringify would, or a query
 * that failed — and returns the last event it proved; the walk that follows goes on from there and
 * names what is wrong.
 */
export async function quickWalk(
  db: Sql,
  from: { seq: number; hash: string },
): Promise<{ seq: number; hash: string }> {
  const columns =
    db.dialect === 'sqlite'
      ? `seq, prev_hash, hash, ${HASHED_TEXT_SQL} AS hashed`
      : 'seq, at, actor, action, subject, details, prev_hash, hash';
  const batch = (after: number) =>
    db.all<AuditRow & { hashed?: string }>(
      `SELECT ${columns} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`,
      after,
      VERIFY_BATCH,
    );
  let previous = from;
  let next = batch(from.seq);
  try {
    for (;;) {
      const rows = await next;
      if (rows.length === VERIFY_BATCH) next = batch(rows.at(-1)!.seq);
      for (const row of rows) {
        if (!follows(row, previous)) return previous;
        previous = { seq: row.seq, hash: row.hash };
      }
      if (rows.length < VERIFY_BATCH) return previous;
    }
  } catch {
    return previous;
  } finally {
    // A batch asked for ahead and not read: its failure is nobody's.
    next.catch(() => undefined);
  }
}

/**
 * Whether `row` is the event after `previous`: the next number, linked to it by its prev_hash, and
 * its hash its content's — recomputed from its fields, or from the text SQLite wrote of them.
 */
function follows(
  row: AuditRow & { hashed?: string },
  previous: { seq: number; hash: string },
): boolean {
  return (
    row.seq === previous.seq + 1 &&
    row.prev_hash === previous.hash &&
    (row.hashed === undefined ? hashAuditRow(row.prev_hash, row) : hash('sha256', row.hashed)) ===
      row.hash
  );
}

/** Why `row` does not follow `previous`; `linkedTo` is the event its prev_hash names, if any. */
function findBreak(
  row: AuditRow,
  previous: { seq: number; hash: string },
  linkedTo: number | null,
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
