// The dispatch table: a new subcommand is one file and one line here.

import { backups } from './backups.js';
import type { Command } from './command.js';
import { drill, runbook, tabletop } from './exercise.js';
import { failback, failover, switchover } from './failover.js';
import { helpCommand } from './help.js';
import { history } from './history.js';
import { schedule } from './schedule.js';
import { abort, report } from './runs.js';
import { status } from './status.js';

const help = helpCommand(() => COMMANDS);

export const COMMANDS: readonly Command<unknown>[] = [
  help,
  status,
  failover,
  failback,
  switchover,
  runbook,
  tabletop,
  drill,
  backups,
  schedule,
  history,
  report,
  abort,
];

export function findCommand(name: string): Command<unknown> | undefined {
  return COMMANDS.find((command) => command.name === name);
}
