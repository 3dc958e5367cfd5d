// `/dr help`: every subcommand with its usage line.

import type { Command, Reply } from './command.js';
import { COMMANDS } from './index.js';

export const help: Command<Reply> = {
  name: 'help',
  usage: '/dr help',
  summary: 'this list',
  run: () => ({
    type: 'message',
    text: [
      '*lifeboat* — disaster recovery from Slack',
      ...COMMANDS.map((c) => `\`${c.usage}\` — ${c.summary}`),
    ].join('\n'),
  }),
};
