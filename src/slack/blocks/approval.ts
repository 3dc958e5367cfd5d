// An approval request in the run's thread: who asks, for what, on which resource, with the lag
// against the RPO — and, once decided, who decided.

import type { ApprovalRecord } from '../../store/approvals.js';
import type { RunView } from '../../engine/run-view.js';
import { ActionId } from '../ids.js';
import {
  actions,
  button,
  context,
  escape,
  mention,
  section,
  slackTime,
  type Block,
} from './kit.js';

export function renderApproval(view: RunView, approval: ApprovalRecord, summary: string): Block[] {
  const step = view.steps[approval.stepIndex];
  const what =
    approval.gate === 'rpo-override'
      ? 'an override of the RPO gate'
      : approval.gate === 'fence-override'
        ? 'a promotion UNFENCED — the old primary still accepts writes, so there will be two primaries until it is fenced'
        : `step ${approval.stepIndex + 1}${step?.action ? ` (\`${step.action}\`)` : ''}`;
  const blocks: Block[] = [
    section(
      `:lock: *Approval needed* — ${mention(approval.requestedBy)} asks for ${what}${approval.reason ? `: ${escape(approval.reason)}` : ''}\n${escape(summary)}`,
    ),
    context(
      `needs ${approval.required} approver${approval.required === 1 ? '' : 's'} other than ${mention(approval.requestedBy)} · expires ${slackTime(approval.expiresAt, 'time')} · request \`${approval.id}\``,
    ),
  ];
  const approvals = approval.votes
    .filter((vote) => vote.decision === 'approve')
    .map((vote) => mention(vote.approver));
  if (approval.status === 'pending') {
    if (approvals.length) blocks.push(context(`approved so far by ${approvals.join(', ')}`));
    blocks.push(
      actions(
        button('Approve', ActionId.approvalApprove, approval.id, 'primary'),
        button('Deny', ActionId.approvalDeny, approval.id, 'danger'),
      ),
    );
  } else if (approval.status === 'approved') {
    blocks.push(context(`:white_check_mark: approved by ${approvals.join(', ')}`));
  } else if (approval.status === 'denied') {
    const denier = approval.votes.find((vote) => vote.decision === 'deny');
    blocks.push(
      context(
        `:no_entry_sign: denied by ${denier ? mention(denier.approver) : 'someone'}${approval.reason ? `: ${escape(approval.reason)}` : ''}`,
      ),
    );
  } else {
    blocks.push(
      context(`:hourglass: expired${approval.reason ? ` (${escape(approval.reason)})` : ''}`),
    );
  }
  return blocks;
}
