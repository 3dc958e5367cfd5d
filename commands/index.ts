// The dispatch table: a new subcommand is one file and one line here.

import type { Command } from './command.js';
import { history } from './history.js';

export const COMMANDS: readonly Command<unknown>[] = [history];

export function findCommand(name: string): Command<unknown> | undefined {
  return COMMANDS.find((command) => command.name === name);
}
