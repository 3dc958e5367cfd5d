// Every action and view id the Slack surface uses, in one place (kebab-case, per flow).

export const ActionId = {
  stepDone: 'step-done',
  stepSkip: 'step-skip',
  stepNote: 'step-note',
  stepRetry: 'step-retry',
  runAbort: 'run-abort',
  approvalApprove: 'approval-approve',
  approvalDeny: 'approval-deny',
  gateOverride: 'gate-override',
  fenceOverride: 'fence-override',
  stopUnfence: 'stop-unfence',
  reminderStart: 'reminder-start',
} as const;

export const ViewId = {
  failoverConfirm: 'failover-confirm',
  stepSkip: 'step-skip-reason',
  stepNote: 'step-note-text',
  runAbort: 'run-abort-reason',
  gateOverride: 'gate-override-reason',
  fenceOverride: 'fence-override-reason',
  stopUnfence: 'stop-unfence-reason',
} as const;

export const BlockId = {
  reason: 'reason',
  impactTime: 'impact-time',
} as const;
