// The one place errors become replies in Slack: a user's mistake or a refused gate is an ephemeral
// sentence saying what to do; anything else is a bug, logged with a correlation id the person sees.

import { randomBytes } from 'node:crypto';
import { isLifeboatError } from '../errors.js';
import type { Logger } from '../log.js';
import { clip, mentionIds } from './blocks/kit.js';

export function errorReply(
  error: unknown,
  logger: Logger | undefined,
  context: Record<string, unknown>,
): string {
  // A message may echo what was typed (a runbook name, a command): escaped, it pings no one; the
  // people it names by ID are shown by name (an ephemeral reply notifies nobody).
  if (isLifeboatError(error)) return `:warning: ${mentionIds(clip(error.message, 2000))}`;
  const id = randomBytes(4).toString('hex');
  logger?.error(
    { err: error, correlationId: id, ...context },
    'internal error handling a Slack request',
  );
  return `:boom: Something went wrong on our side (error id \`${id}\`); the logs have the details. Part of this request may have been done: \`/dr status\` shows where runs stand before you try again.`;
}
