// `/dr help`: every subcommand with its usage line. Takes the table as a function so that this
// module does not import the table that lists it (no import cycle).

import type { Command, Reply } from './command.js';

export function helpCommand(commands: () => readonly Command<unknown>[]): Command<Reply> {
  return {
    name: 'help',
    usage: '/dr help',
    summary: 'this list',
    run: () => ({
      type: 'message',
      text: [
        '*lifeboat* — disaster recovery from Slack',
        ...commands().map((c) => `\`${c.usage}\` — ${c.summary}`),
      ].join('\n'),
    }),
  };
}
