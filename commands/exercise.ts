// `/dr drill <runbook>`, `/dr tabletop <runbook>`, `/dr runbook list|show|start <name>`: start an
// exercise, or look at the runbooks. A runbook of kind failover, failback or switchover started
// here still goes through the confirmation.

import { formatDuration } from '../src/duration.js';
import { UsageError } from '../src/errors.js';
import { loadRunbookLibrary, resolveRunbook } from '../src/runbook/library.js';
import type { RunKind } from '../src/runbook/model.js';
import {
  isConfirmedKind,
  needEngine,
  type Command,
  type CommandContext,
  type Reply,
} from './command.js';

function startExercise(kind: RunKind): Command<Reply> {
  const command: Command<Reply> = {
    name: kind,
    usage: `/dr ${kind} <runbook>`,
    summary:
      kind === 'tabletop'
        ? 'walk through a runbook on paper: nothing is executed, notes become findings'
        : `start a ${kind} of a runbook`,
    run(args, context) {
      if (args.length !== 1) throw new UsageError(`usage: ${command.usage}`);
      return start(args[0]!, kind, context);
    },
  };
  return command;
}

export const drill = startExercise('drill');
export const tabletop = startExercise('tabletop');

export const runbook: Command<Reply> = {
  name: 'runbook',
  usage: '/dr runbook list|show|start <name>',
  summary: 'the runbooks: list them, show one, start one',
  run(args, context) {
    const [verb, name, ...extra] = args;
    if (verb === 'list' && name === undefined) return list(context);
    if (verb === 'show' && name && extra.length === 0) return show(name, context);
    if (verb === 'start' && name && extra.length === 0) {
      const found = resolveRunbook(name, context.config.runbooksDir);
      if (isConfirmedKind(found.kind) && found.service) {
        return { type: 'confirm', kind: found.kind, service: found.service, runbook: found.name };
      }
      return start(name, found.kind, context);
    }
    throw new UsageError(`usage: ${runbook.usage}`);
  },
};

function start(name: string, kind: RunKind, context: CommandContext): Reply {
  const result = needEngine(context).startRun({
    key: context.key ?? `${context.user}:${name}:${Date.now()}`,
    actor: { user: context.user, via: 'slack' },
    runbook: name,
    kind,
  });
  return {
    type: 'started',
    runId: result.runId,
    text: result.replayed
      ? `already started: run ${result.runId}`
      : `${kind} of ${name} started: run \`${result.runId}\``,
  };
}

function list(context: CommandContext): Reply {
  const library = loadRunbookLibrary(context.config.runbooksDir);
  const lines = library.runbooks.map(
    (r) =>
      `• \`${r.name}\` — ${r.title} (${r.kind}${r.service ? `, ${r.service}` : ''}, ${r.phases.reduce((n, p) => n + p.steps.length, 0)} steps, reviewed ${r.reviewed ?? 'never'})`,
  );
  const broken = library.errors.map((e) => `• :warning: ${e.message}`);
  return {
    type: 'message',
    text: [`*Runbooks* in ${library.dir}`, ...lines, ...broken].join('\n'),
  };
}

function show(name: string, context: CommandContext): Reply {
  const found = resolveRunbook(name, context.config.runbooksDir);
  const lines = [
    `*${found.title}* — ${found.kind}${found.service ? ` · ${found.service}` : ''}${found.owner ? ` · owner ${found.owner}` : ''}`,
  ];
  for (const phase of found.phases) {
    lines.push(
      `*${phase.title}*${phase.budgetMinutes === null ? '' : ` (${formatDuration(phase.budgetMinutes * 60)})`}`,
    );
    for (const step of phase.steps) {
      lines.push(
        `${step.index + 1}. ${step.checklist ? '☐ ' : ''}${step.text}${step.action ? ` \`${step.action}\`` : ''}${step.approval ? ' :lock:' : ''}`,
      );
    }
  }
  return { type: 'message', text: lines.join('\n') };
}
