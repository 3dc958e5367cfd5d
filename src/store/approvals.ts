// Approval requests and the votes on them. The primary key (approval, approver) is what makes a
// double click count once.

import type { Sql } from './db.js';

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

export async function insertApproval(
  db: Sql,
  approval: Omit<ApprovalRecord, 'votes' | 'status' | 'decidedAt'>,
): Promise<void> {
  await db.run(
    `INSERT INTO approvals (id, run_id, step_index, gate, requested_by, requested_at, expires_at, required, status, reason, plan_hash, attempt)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
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

export async function getApproval(db: Sql, id: string): Promise<ApprovalRecord | null> {
  const row = await db.get<ApprovalRow>('SELECT * FROM approvals WHERE id = ?', id);
  return row ? withVotes(db, row) : null;
}

/** The requests for one step and gate, newest last. */
export async function approvalsFor(
  db: Sql,
  runId: string,
  stepIndex: number,
  gate?: ApprovalGate,
): Promise<ApprovalRecord[]> {
  const rows = await db.all<ApprovalRow>(
    'SELECT * FROM approvals WHERE run_id = ? AND step_index = ? ORDER BY requested_at, rowid',
    runId,
    stepIndex,
  );
  return Promise.all(
    rows.filter((row) => gate === undefined || row.gate === gate).map((row) => withVotes(db, row)),
  );
}

export async function approvalsOfRun(db: Sql, runId: string): Promise<ApprovalRecord[]> {
  const rows = await db.all<ApprovalRow>(
    'SELECT * FROM approvals WHERE run_id = ? ORDER BY requested_at, rowid',
    runId,
  );
  return Promise.all(rows.map((row) => withVotes(db, row)));
}

/** Returns false when this approver has already voted on this request. */
export async function addVote(db: Sql, approvalId: string, vote: ApprovalVote): Promise<boolean> {
  const result = await db.run(
    `INSERT INTO approval_votes (approval_id, approver, decision, at, via) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
    approvalId,
    vote.approver,
    vote.decision,
    vote.at,
    vote.via ?? null,
  );
  return result.changes === 1;
}

export async function setApprovalStatus(
  db: Sql,
  id: string,
  status: ApprovalStatus,
  at: string,
  reason?: string,
): Promise<void> {
  await db.run(
    'UPDATE approvals SET status = ?, decided_at = ?, reason = COALESCE(?, reason) WHERE id = ?',
    status,
    at,
    reason ?? null,
    id,
  );
}

async function withVotes(db: Sql, row: ApprovalRow): Promise<ApprovalRecord> {
  const votes = await db.all<ApprovalVote>(
    'SELECT approver, decision, at, via FROM approval_votes WHERE approval_id = ? ORDER BY at, rowid',
    row.id,
  );
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

/**
 * The approvals still waiting on a second person, oldest first: pending and unexpired, of runs in
 * flight (an expired one stays pending in the store until someone looks; one of an ended run
 * waits for nobody).
 */
export async function waitingApprovals(
  db: Sql,
  now: Date,
): Promise<{ id: string; runId: string; stepIndex: number; requestedAt: string }[]> {
  return db.all(
    `SELECT a.id, a.run_id AS "runId", a.step_index AS "stepIndex", a.requested_at AS "requestedAt"
       FROM approvals a JOIN runs r ON r.id = a.run_id
      WHERE a.status = 'pending' AND a.expires_at > ? AND r.finished_at IS NULL
      ORDER BY a.requested_at`,
    now.toISOString(),
  );
}
