// The buttons that ask "why?" first — skip, note, abort, the gate overrides, stop and unfence —
// and the one listener for the reason modals they open. An empty reason is refused in the modal.

import { reasonModal } from './blocks/modals.js';
import { errorReply } from './error-reply.js';
import { ActionId, BlockId, ViewId } from './ids.js';
import { exactly, runStep, type ButtonHandler, type SlackWiring } from './wiring.js';

/** Registers the modals' submissions; returns the buttons that open them. */
export function registerReasonModals(wiring: SlackWiring): Map<string, ButtonHandler> {
  const { app, engine, logger, publisher, usergroups, afterAcks } = wiring;
  const buttons = new Map<string, ButtonHandler>();
  const asks = [
    [ActionId.stepSkip, ViewId.stepSkip, 'Skip step', 'Why skip it? (goes into the report)'],
    [ActionId.stepNote, ViewId.stepNote, 'Add a note', 'Note'],
    [ActionId.runAbort, ViewId.runAbort, 'Abort run', 'Why abort it?'],
    [
      ActionId.gateOverride,
      ViewId.gateOverride,
      'Override the RPO gate',
      'Why promote despite the lag? A second person must approve.',
    ],
    [
      ActionId.fenceOverride,
      ViewId.fenceOverride,
      'Promote unfenced',
      'Why promote while the old primary still accepts writes? There are two primaries until it is fenced. A second person must approve.',
    ],
    [
      ActionId.stopUnfence,
      ViewId.stopUnfence,
      'Stop and unfence',
      'Why stop? The run ends and the old primary takes writes again (the replica was not promoted).',
    ],
  ] as const;
  /** Names what a reason is for: the step (with its text) or the run. */
  const subjectOf = async (value: string): Promise<string | undefined> => {
    const [runId = '', step] = value.split(':');
    try {
      const view = await engine.getRun(runId);
      if (step === undefined) return `Run ${runId}: ${view.runbook.title}`;
      const target = view.steps[Number(step)];
      return target ? `Step ${target.index + 1} of ${runId}: ${target.text}` : undefined;
    } catch {
      return undefined;
    }
  };
  for (const [actionId, viewId, title, label] of asks) {
    buttons.set(actionId, async (value, _user, _key, triggerId) =>
      app.client.views.open({
        trigger_id: triggerId,
        view: reasonModal(viewId, title, label, value, await subjectOf(value)),
      }),
    );
  }
  const askViews: string[] = asks.map(([, viewId]) => viewId);
  app.view(exactly(askViews), async ({ ack, view, body }) => {
    const viewId = view.callback_id;
    const reason = (view.state.values[BlockId.reason]?.value?.value ?? '').trim();
    if (!reason) {
      // Slack requires the field, but spaces pass: say so in the modal, never close it silently.
      await ack({
        response_action: 'errors',
        errors: {
          [BlockId.reason]:
            viewId === ViewId.stepNote
              ? 'Write the note: an empty one is not saved.'
              : 'Write a reason: it goes into the report and the audit log.',
        },
      });
      return;
    }
    await ack();
    await afterAcks();
    const user = body.user.id;
    const key = `view:${view.id}`;
    const actor = await usergroups.actorOf(user);
    try {
      if (viewId === ViewId.runAbort || viewId === ViewId.stopUnfence)
        await engine.abortRun({
          key,
          actor,
          runId: view.private_metadata,
          reason,
          unfence: viewId === ViewId.stopUnfence,
        });
      else {
        const target = runStep(view.private_metadata);
        if (viewId === ViewId.stepSkip) await engine.skipStep({ key, actor, ...target, reason });
        if (viewId === ViewId.stepNote)
          await engine.addNote({ key, actor, ...target, text: reason });
        if (viewId === ViewId.gateOverride || viewId === ViewId.fenceOverride)
          await engine.overrideGate({ key, actor, ...target, reason });
      }
    } catch (error) {
      const channel = await publisher.channelOf(runStep(view.private_metadata).runId);
      if (channel)
        await app.client.chat.postEphemeral({
          channel,
          user,
          text: errorReply(error, logger, { view: viewId }),
        });
    }
  });

  return buttons;
}
