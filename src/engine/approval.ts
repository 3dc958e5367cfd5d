// The two-person rule, once. Pure: given a request, a person and the config, may they decide it?
// Every refusal is a sentence the person can act on.

import type { Config } from '../config.js';
import type { ApprovalRecord } from '../store/approvals.js';

export interface DecisionInput {
  approval: ApprovalRecord;
  user: string;
  approvals: Config['approvals'];
  /** Membership of approvals.usergroup, as the adapter resolved it; never assumed. */
  isUsergroupMember: boolean;
  now: Date;
}

export function isExpired(approval: ApprovalRecord, now: Date): boolean {
  return approval.status === 'pending' && now.getTime() > Date.parse(approval.expiresAt);
}

/** Null when `user` may decide the request; otherwise why not. */
export function refusalFor(input: DecisionInput): string | null {
  const { approval, user, approvals, isUsergroupMember, now } = input;
  if (approval.status !== 'pending') {
    return `this request is already ${approval.status}${approval.decidedAt ? ` (at ${approval.decidedAt})` : ''}`;
  }
  if (isExpired(approval, now)) {
    return `this request expired at ${approval.expiresAt}: ask for approval again`;
  }
  if (approvals.approvers.length === 0 && approvals.usergroup === null) {
    return 'no approvers are configured, so every approval is refused: add Slack user IDs to approvals.approvers (or a user group to approvals.usergroup) in lifeboat.yml';
  }
  if (user === approval.requestedBy) {
    return 'you asked for this, so you cannot approve it: the two-person rule needs someone else';
  }
  const listed = approvals.approvers.includes(user);
  const inGroup = approvals.usergroup !== null && isUsergroupMember;
  if (!listed && !inGroup) {
    const who = [
      approvals.approvers.length ? `approvals.approvers (${approvals.approvers.join(', ')})` : '',
      approvals.usergroup ? `members of user group ${approvals.usergroup}` : '',
    ].filter(Boolean);
    return `${user} is not an approver: only ${who.join(' or ')} may approve`;
  }
  return null;
}

export function approveCount(approval: ApprovalRecord): number {
  return approval.votes.filter((vote) => vote.decision === 'approve').length;
}
