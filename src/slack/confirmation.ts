// The confirmation modal of a run that promotes a database (/dr failover, failback, switchover):
// the plan and the measured lag first, then the impact time read back before anything starts.

import type { WebClient } from '@slack/web-api';
import type { Reply } from '../../commands/command.js';
import { describeImpact, parseImpactTime } from '../impact-time.js';
import type { RunKind } from '../runbook/model.js';
import { confirmationModal } from './blocks/modals.js';
import { errorReply } from './error-reply.js';
import { BlockId, ViewId } from './ids.js';
import type { SlackWiring } from './wiring.js';

/** Opens the confirmation modal of `reply` in `channel`. */
export type OpenConfirmation = (
  client: WebClient,
  triggerId: string,
  channel: string,
  reply: Extract<Reply, { type: 'confirm' }>,
) => Promise<void>;

/** What the confirmation modal carries between its submissions. */
interface ConfirmationMeta {
  kind: RunKind;
  service: string;
  runbook: string;
  channel: string;
  lag?: string;
  /** The impact time as typed and as read, once shown back to the person. */
  echoed?: { text: string; at: string };
}

/** Registers the modal's submission; returns how to open it. */
export function registerConfirmation(wiring: SlackWiring): OpenConfirmation {
  const { app, engine, logger, publisher, usergroups, afterAcks } = wiring;

  async function openConfirmation(
    client: WebClient,
    triggerId: string,
    channel: string,
    reply: Extract<Reply, { type: 'confirm' }>,
  ) {
    const preview = await engine.previewPlan(reply.runbook, reply.service, reply.kind);
    const meta: ConfirmationMeta = {
      kind: reply.kind,
      service: reply.service,
      runbook: reply.runbook,
      channel,
    };
    const metadata = JSON.stringify(meta);
    const opened = await client.views.open({
      trigger_id: triggerId,
      view: confirmationModal(reply, preview.lines, 'measuring replication lag…', metadata),
    });
    // Lag takes a network round trip or two: show the modal first, then fill it in.
    const lag = await engine
      .measureLagFor(reply.service, reply.kind)
      .catch((error: Error) => `lag unknown: ${error.message}`);
    if (opened.view?.id) {
      await client.views.update({
        view_id: opened.view.id,
        hash: opened.view.hash,
        view: confirmationModal(reply, preview.lines, lag, JSON.stringify({ ...meta, lag })),
      });
    }
  }

  app.view(ViewId.failoverConfirm, async ({ ack, view, body }) => {
    const values = view.state.values;
    const impactText = (values[BlockId.impactTime]?.value?.value ?? '').trim();
    const now = engine.clock();
    const impact = parseImpactTime(impactText, now);
    if (typeof impact === 'string') {
      await ack({ response_action: 'errors', errors: { [BlockId.impactTime]: impact } });
      return;
    }
    const meta = JSON.parse(view.private_metadata) as ConfirmationMeta;
    if (impact !== null && meta.echoed?.text !== impactText) {
      // Show the time as read before anything starts: "23:59" must not quietly mean yesterday.
      const echoed = { text: impactText, at: impact.toISOString() };
      await ack({
        response_action: 'update',
        view: confirmationModal(
          meta,
          (await engine.previewPlan(meta.runbook, meta.service, meta.kind)).lines,
          meta.lag ?? 'not measured',
          JSON.stringify({ ...meta, echoed }),
          { text: impactText, reading: describeImpact(impact, now) },
        ),
      });
      return;
    }
    await ack();
    await afterAcks();
    const impactAt = impact === null ? undefined : new Date(meta.echoed?.at ?? impact);
    try {
      const result = await engine.startRun({
        key: `view:${view.id}`,
        actor: await usergroups.actorOf(body.user.id),
        runbook: meta.runbook,
        service: meta.service,
        kind: meta.kind,
        impactAt,
      });
      publisher.bindChannel(result.runId, meta.channel);
    } catch (error) {
      await app.client.chat.postEphemeral({
        channel: meta.channel,
        user: body.user.id,
        text: errorReply(error, logger, { view: view.callback_id }),
      });
    }
  });

  return openConfirmation;
}
