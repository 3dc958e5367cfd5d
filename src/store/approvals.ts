// Approval requests and the votes on them. The primary key (approval, approver) is what makes a
// double click count once.

import type { Db } from './db.js';

export type ApprovalGate = 'two-person' | 'rpo-override' | 'fence-override';
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

export interface ApprovalVote {
  approver: string;
  decision: 'approve' | 'deny';
  at: string;
  /** How the decision was made: `slack`, `cli:alice`, `token:bob`. */
  via?: string | null;
}

export interface ApprovalRecord {
  id: string;
  runId: string;
  stepIndex: number;
  gate: ApprovalGate;
  requestedBy: string;
  requestedAt: string;
  expiresAt: string;
  required: number;
  status: ApprovalStatus;
  decidedAt: string | null;
  reason: string | null;
  /** sha256 of the plan shown when approval was asked: an approval covers that plan only. */
  planHash: string | null;
  /** The attempt of the step it was asked for. */
  attempt: number;
  votes: ApprovalVote[];
}

interface ApprovalRow {
  id: string;
  run_id: string;
  step_index: number;
  gate: ApprovalGate;
  requested_by: string;
  requested_at: string;
  expires_at: string;
  required: number;
  status: ApprovalStatus;
  decided_at: string | null;
  reason: string | null;
  plan_hash: string | null;
  attempt: number;
}

export function insertApproval(
  db: Db,
  approval: Omit<ApprovalRecord, 'votes' | 'status' | 'decidedAt'>,
): void {
  db.prepare(
    `INSERT INTO approvals (id, run_id, step_index, gate, requested_by, requested_at, expires_at, required, status, reason, plan_hash, attempt)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
  ).run(
    approval.id,
    approval.runId,
    approval.stepIndex,
    approval.gate,
    approval.requestedBy,
    approval.requestedAt,
    approval.expiresAt,
    approval.required,
    approval.reason,
    approval.planHash,
    approval.attempt,
  );
}

export function getApproval(db: Db, id: string): ApprovalRecord | null {
  const row = db.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as ApprovalRow | undefined;
  return row ? withVotes(db, row) : null;
}

/** The requests for one step and gate, newest last. */
export function approvalsFor(
  db: Db,
  runId: string,
  stepIndex: number,
  gate?: ApprovalGate,
): ApprovalRecord[] {
  const rows = db
    .prepare(
      'SELECT * FROM approvals WHERE run_id = ? AND step_index = ? ORDER BY requested_at, rowid',
    )
    .all(runId, stepIndex) as ApprovalRow[];
  return rows
    .filter((row) => gate === undefined || row.gate === gate)
    .map((row) => withVotes(db, row));
}

export function approvalsOfRun(db: Db, runId: string): ApprovalRecord[] {
  const rows = db
    .prepare('SELECT * FROM approvals WHERE run_id = ? ORDER BY requested_at, rowid')
    .all(runId) as ApprovalRow[];
  return rows.map((row) => withVotes(db, row));
}

/** Returns false when this approver has already voted on this request. */
export function addVote(db: Db, approvalId: string, vote: ApprovalVote): boolean {
  const result = db
    .prepare(
      'INSERT OR IGNORE INTO approval_votes (approval_id, approver, decision, at, via) VALUES (?, ?, ?, ?, ?)',
    )
    .run(approvalId, vote.approver, vote.decision, vote.at, vote.via ?? null);
  return result.changes === 1;
}

export function setApprovalStatus(
  db: Db,
  id: string,
  status: ApprovalStatus,
  at: string,
  reason?: string,
): void {
  db.prepare(
    'UPDATE approvals SET status = ?, decided_at = ?, reason = COALESCE(?, reason) WHERE id = ?',
  ).run(status, at, reason ?? null, id);
}

function withVotes(db: Db, row: ApprovalRow): ApprovalRecord {
  const votes = db
    .prepare(
      'SELECT approver, decision, at, via FROM approval_votes WHERE approval_id = ? ORDER BY at, rowid',
    )
    .all(row.id) as ApprovalVote[];
  return {
    id: row.id,
    runId: row.run_id,
    stepIndex: row.step_index,
    gate: row.gate,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
    expiresAt: row.expires_at,
    required: row.required,
    status: row.status,
    decidedAt: row.decided_at,
    reason: row.reason,
    planHash: row.plan_hash ?? null,
    attempt: row.attempt ?? 1,
    votes,
  };
}
