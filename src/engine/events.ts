// What the engine tells adapters. Emitted after the change is committed; the engine never waits on
// a listener, and a listener that throws is logged, not allowed to stop a run.

import type { ApprovalRecord } from '../store/approvals.js';
import type { RunRecord } from '../store/runs.js';

export type EngineEvent =
  | { type: 'run.started'; runId: string; run: RunRecord }
  | { type: 'step.started'; runId: string; stepIndex: number; plan: string | null }
  | { type: 'action.started'; runId: string; stepIndex: number; plan: string; attempt: number }
  | {
      type: 'step.finished';
      runId: string;
      stepIndex: number;
      state: 'done' | 'skipped';
      summary: string;
      by: string;
    }
  | {
      type: 'step.blocked';
      runId: string;
      stepIndex: number;
      reason: string;
      waitingOn: 'rpo-gate' | 'fence-gate' | 'failure';
    }
  | { type: 'action.progress'; runId: string; stepIndex: number; text: string }
  | { type: 'approval.requested'; runId: string; approval: ApprovalRecord; summary: string }
  | {
      type: 'approval.decided';
      runId: string;
      approval: ApprovalRecord;
      by: string;
      decision: 'approve' | 'deny';
    }
  | { type: 'note.added'; runId: string; stepIndex: number | null; author: string; text: string }
  | { type: 'notify'; runId: string; text: string }
  | { type: 'run.finished'; runId: string; run: RunRecord };

export type EngineListener = (event: EngineEvent) => void | Promise<void>;
