// `/dr …`: the one slash command. A command that answers without I/O (help, runbook list and show,
// history) answers inside the ack itself — one HTTP round trip, nothing left to do after. One that
// waits on the network or reads much of the store (status, backups, report: `acksFirst`), a run's
// start and the confirmation modal ack first and go on in their turn (after-acks.ts), so a burst of
// requests is acked before any of them is worked on.

import { COMMANDS, findCommand } from '../../commands/index.js';
import type { Command, Reply } from '../../commands/command.js';
import type { Actor } from '../engine/core.js';
import { UsageError } from '../errors.js';
import type { OpenConfirmation } from './confirmation.js';
import { errorReply } from './error-reply.js';
import { ephemeral, type SlackWiring } from './wiring.js';

export function registerSlashCommand(
  wiring: SlackWiring,
  openConfirmation: OpenConfirmation,
): void {
  const { app, config, engine, logger, publisher, usergroups, afterAcks } = wiring;
  app.command('/dr', async ({ command, ack, respond, client }) => {
    const [name = 'help', ...args] = command.text.trim().split(/\s+/).filter(Boolean);
    const contextAs = (actor: Actor) => ({
      config,
      store: engine.store,
      user: command.user_id,
      actor,
      clock: engine.clock,
      engine,
      key: `slash:${command.trigger_id}`,
    });
    const failed = (error: unknown) =>
      errorReply(error, logger, { command: command.text, user: command.user_id });
    const found = findCommand(name);
    if (!found) {
      const unknown = new UsageError(
        `unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')} — \`/dr help\` for usage`,
      );
      await ack({ response_type: 'ephemeral', text: failed(unknown) });
      return;
    }
    // Answered inside the ack when nothing must be waited on: not the command (acksFirst), and
    // not Slack (a user group the cache does not know yet). A drill's start (a store commit)
    // and the confirmation of a failover answer after it.
    const known = found.acksFirst ? undefined : usergroups.cachedActorOf(command.user_id);
    let answer: unknown;
    if (known) {
      try {
        answer = found.run(args, contextAs(known));
      } catch (error) {
        await ack({ response_type: 'ephemeral', text: failed(error) });
        return;
      }
      // Awaited after the ack: a rejection meanwhile must not count as unhandled.
      if (answer instanceof Promise) answer.catch(() => undefined);
      const reply = answer instanceof Promise ? undefined : toReply(found, answer);
      if (reply && reply.type !== 'confirm') {
        if (reply.type === 'started') publisher.bindChannel(reply.runId, command.channel_id);
        await ack({ response_type: 'ephemeral', text: reply.text });
        return;
      }
    }
    await ack();
    await afterAcks();
    try {
      const result: unknown = known
        ? await answer
        : await found.run(args, contextAs(await usergroups.actorOf(command.user_id)));
      // A probe's answer is rendered in its turn too, behind the requests that came meanwhile.
      if (found.acksFirst) await afterAcks();
      const reply = toReply(found, result);
      if (reply.type === 'confirm') {
        await openConfirmation(client, command.trigger_id, command.channel_id, reply);
        return;
      }
      if (reply.type === 'started') publisher.bindChannel(reply.runId, command.channel_id);
      await ephemeral(respond, reply.text);
      if (reply.type === 'message' && reply.image) {
        const { png, filename, title } = reply.image;
        await client.files
          .uploadV2({ channel_id: command.channel_id, file: png, filename, title, alt_text: title })
          .catch(async (error: unknown) => {
            logger?.warn({ err: error, channel: command.channel_id }, 'could not upload a chart');
            const code = (error as { data?: { error?: string } }).data?.error;
            await ephemeral(
              respond,
              `The chart could not be posted here (${code ?? (error as Error).message}${code === 'not_in_channel' ? ': invite the bot to this channel' : ''}); the report's RTO trend line says the same.`,
            );
          });
      }
    } catch (error) {
      await ephemeral(respond, failed(error));
    }
  });
}

/** A command that returns data (shared with the CLI) says how a chat shows it; the rest answer a Reply. */
function toReply(command: Command<unknown>, result: unknown): Reply {
  return command.reply ? command.reply(result) : (result as Reply);
}
