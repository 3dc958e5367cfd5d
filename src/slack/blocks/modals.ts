// The modals: the failover confirmation (the second deliberate act before a promotion) and the
// "why?" modal behind Skip, Add note, Abort and Override.

import type { ModalView } from '@slack/types';
import { BlockId } from '../ids.js';
import { ViewId } from '../ids.js';
import type { RunKind } from '../../runbook/model.js';
import { context, escape, section } from './kit.js';

const VERBS: Partial<Record<RunKind, string>> = {
  failover: 'Fail over',
  failback: 'Fail back',
  switchover: 'Switch over',
  drill: 'Drill on',
};

export function confirmationModal(
  reply: { kind: RunKind; service: string; runbook: string },
  planLines: string[],
  lag: string,
  privateMetadata: string,
  /** The impact time as typed and as read, shown back before the run can start. */
  impactEcho?: { text: string; reading: string },
): ModalView {
  const verb = VERBS[reply.kind] ?? `Run a ${reply.kind} on`;
  // Only a failover or failback measures from an outage; a switchover or a drill is planned.
  const impact =
    reply.kind !== 'failover' && reply.kind !== 'failback'
      ? []
      : [
          {
            type: 'input',
            block_id: BlockId.impactTime,
            optional: true,
            label: {
              type: 'plain_text',
              text:
                reply.kind === 'failover'
                  ? 'When did the outage begin? (UTC)'
                  : 'When does the RTO clock start? (UTC)',
            },
            hint: {
              type: 'plain_text',
              text: 'HH:MM or HH:MM:SS (UTC, today), "15 min ago", or an ISO time. Empty: now. The RTO clock starts here; you will see the time as read before anything starts.',
            },
            element: {
              type: 'plain_text_input',
              action_id: 'value',
              placeholder: { type: 'plain_text', text: '03:12' },
              ...(impactEcho ? { initial_value: impactEcho.text } : {}),
            },
          },
          ...(impactEcho
            ? [
                section(
                  `:clock3: *The RTO clock starts at ${escape(impactEcho.reading)}.* Press *Start ${reply.kind}* again to begin, or change the time.`,
                ),
              ]
            : []),
        ];
  return {
    type: 'modal',
    callback_id: ViewId.failoverConfirm,
    private_metadata: privateMetadata,
    title: { type: 'plain_text', text: `${verb} ${reply.service}`.slice(0, 24) },
    submit: { type: 'plain_text', text: `Start ${reply.kind}` },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      section(
        `*${verb} ${escape(reply.service)}* with runbook \`${escape(reply.runbook)}\`. Nothing happens until you press *Start ${reply.kind}*; promotion still needs a second person's approval.`,
      ),
      section(`*Replication lag:* ${escape(lag)}`),
      section(`*What it will do*\n${planLines.map(escape).join('\n') || 'no action steps'}`),
      ...impact,
      context(
        'The run lives in a thread in this channel; every step and decision is in the audit log.',
      ),
    ] as ModalView['blocks'],
  };
}

export function reasonModal(
  callbackId: string,
  title: string,
  label: string,
  privateMetadata: string,
  /** What the reason is about, shown above the field: "Step 3 of r-1a2b: Promote the replica". */
  subject?: string,
): ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    private_metadata: privateMetadata,
    title: { type: 'plain_text', text: title.slice(0, 24) },
    submit: { type: 'plain_text', text: 'Submit' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      ...(subject ? [section(`*${escape(subject)}*`)] : []),
      {
        type: 'input',
        block_id: BlockId.reason,
        label: { type: 'plain_text', text: label },
        element: { type: 'plain_text_input', action_id: 'value', multiline: true },
      },
    ],
  };
}
