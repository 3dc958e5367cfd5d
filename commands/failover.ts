// `/dr failover <service>`, `/dr failback <service>` and `/dr switchover <service>`: never one typo
// away from a promotion — the command only opens a confirmation showing the plan; Start in it
// begins the run.

import { UsageError } from '../src/errors.js';
import { loadRunbookLibrary } from '../src/runbook/library.js';
import {
  pickService,
  type Command,
  type CommandContext,
  type ConfirmedKind,
  type Reply,
} from './command.js';

const SUMMARIES: Record<ConfirmedKind, string> = {
  failover: 'fail a service over to its DR replica',
  failback: 'fail a service back to its primary region',
  switchover: 'move the writer to the replica on purpose, losing nothing: fence, catch up, promote',
};

function confirmation(kind: ConfirmedKind): Command<Reply> {
  const command: Command<Reply> = {
    name: kind,
    usage: `/dr ${kind} <service>`,
    summary: `${SUMMARIES[kind]} (asks for confirmation first)`,
    run(args, context) {
      const service = pickService(args, context, command.usage);
      return { type: 'confirm', kind, service, runbook: runbookFor(kind, service, context) };
    },
  };
  return command;
}

export const failover = confirmation('failover');
export const failback = confirmation('failback');
export const switchover = confirmation('switchover');

/** The service's configured runbook for `kind`, else the only runbook of that kind written for it. */
function runbookFor(kind: ConfirmedKind, service: string, context: CommandContext): string {
  const configured = context.config.services[service]?.runbooks[kind];
  if (configured) return configured;
  const candidates = loadRunbookLibrary(context.config.runbooksDir).runbooks.filter(
    (runbook) => runbook.kind === kind && (runbook.service === service || runbook.service === null),
  );
  if (candidates.length === 1) return candidates[0]!.name;
  throw new UsageError(
    `service ${service} has ${candidates.length === 0 ? 'no' : 'several'} ${kind} runbooks${candidates.length ? ` (${candidates.map((r) => r.name).join(', ')})` : ''}: set services.${service}.runbooks.${kind} in lifeboat.yml`,
  );
}
