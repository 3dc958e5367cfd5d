// The buttons of run threads, approval requests and reminders (those that ask "why?" first are in
// reason-modals.ts). Bolt runs every listener's matchers on every request: one listener for all
// our buttons keeps each request's path short.

import { runbook as runbookCommand } from '../../commands/exercise.js';
import type { OpenConfirmation } from './confirmation.js';
import { errorReply } from './error-reply.js';
import { ActionId } from './ids.js';
import { registerReasonModals } from './reason-modals.js';
import { ephemeral, exactly, runStep, type ButtonHandler, type SlackWiring } from './wiring.js';

export function registerButtons(wiring: SlackWiring, openConfirmation: OpenConfirmation): void {
  const { app, config, engine, logger, publisher, usergroups, afterAcks } = wiring;
  const buttons = registerReasonModals(wiring);
  const onButton = (actionId: string, handle: ButtonHandler) => buttons.set(actionId, handle);

  onButton(ActionId.stepDone, (value, actor, key) =>
    engine.completeStep({ key, actor, ...runStep(value) }),
  );
  onButton(ActionId.stepRetry, (value, actor, key) =>
    engine.retryStep({ key, actor, ...runStep(value) }),
  );
  onButton(ActionId.approvalApprove, (value, actor, key) =>
    engine.decideApproval({ key, actor, approvalId: value, decision: 'approve' }),
  );
  onButton(ActionId.approvalDeny, (value, actor, key) =>
    engine.decideApproval({ key, actor, approvalId: value, decision: 'deny' }),
  );
  // A reminder's Start button: the same path as `/dr runbook start <name>` (a failover or failback
  // still opens the confirmation).
  onButton(ActionId.reminderStart, async (value, actor, key, triggerId) => {
    const reply = await runbookCommand.run(['start', value], {
      config,
      store: engine.store,
      user: actor.user,
      actor,
      clock: engine.clock,
      engine,
      key,
    });
    if (reply.type === 'confirm')
      return openConfirmation(app.client, triggerId, config.slackChannel ?? '', reply);
    if (reply.type === 'started' && config.slackChannel)
      publisher.bindChannel(reply.runId, config.slackChannel);
    return undefined;
  });

  app.action(exactly([...buttons.keys()]), async ({ ack, body, action, respond }) => {
    await ack();
    await afterAcks();
    const button = action as { action_id: string; value?: string; action_ts?: string };
    const user = body.user.id;
    try {
      await buttons.get(button.action_id)?.(
        button.value ?? '',
        await usergroups.actorOf(user),
        `click:${button.action_id}:${button.value}:${user}:${button.action_ts}`,
        (body as { trigger_id: string }).trigger_id,
      );
    } catch (error) {
      await ephemeral(respond, errorReply(error, logger, { action: button.action_id, user }));
    }
  });
}
