// `/dr …`: the one slash command. A command that answers without I/O (help, runbook, history,
// starting a drill: a local SQLite commit) answers inside the ack itself — one HTTP round trip,
// nothing left to do after. One that waits on the network (status, backups, the confirmation
// modal) acks first and answers after.

import { COMMANDS, findCommand } from '../../commands/index.js';
import type { Command, Reply } from '../../commands/command.js';
import { UsageError } from '../errors.js';
import type { OpenConfirmation } from './confirmation.js';
import { errorReply } from './error-reply.js';
import { ephemeral, type SlackWiring } from './wiring.js';

export function registerSlashCommand(
  wiring: SlackWiring,
  openConfirmation: OpenConfirmation,
): void {
  const { app, config, engine, logger, publisher, usergroups } = wiring;
  app.command('/dr', async ({ command, ack, respond, client }) => {
    const [name = 'help', ...args] = command.text.trim().split(/\s+/).filter(Boolean);
    const context = {
      config,
      store: engine.store,
      user: command.user_id,
      actor: await usergroups.actorOf(command.user_id),
      clock: engine.clock,
      engine,
      key: `slash:${command.trigger_id}`,
    };
    const failed = (error: unknown) =>
      errorReply(error, logger, { command: command.text, user: command.user_id });
    const found = findCommand(name);
    let answer: unknown;
    try {
      if (!found) {
        throw new UsageError(
          `unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')} — \`/dr help\` for usage`,
        );
      }
      answer = found.run(args, context);
    } catch (error) {
      await ack({ response_type: 'ephemeral', text: failed(error) });
      return;
    }
    if (!(answer instanceof Promise)) {
      const reply = toReply(found, answer);
      if (reply.type !== 'confirm') {
        if (reply.type === 'started') publisher.bindChannel(reply.runId, command.channel_id);
        await ack({ response_type: 'ephemeral', text: reply.text });
        return;
      }
    }
    await ack();
    try {
      const reply = toReply(found, await answer);
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
