// `/dr drill <runbook>`, `/dr tabletop <runbook>`, `/dr runbook list|show|start <name>`: start an
// exercise, or look at the runbooks. A runbook of kind failover, failback or switchover started
// here still goes through the confirmation.

import { formatDuration } from '../src/duration.js';
import { clip, escape } from '../src/mrkdwn.js';
import { UsageError } from '../src/errors.js';
import { loadRunbookLibrary, resolveRunbookByName } from '../src/runbook/library.js';
import type { RunKind } from '../src/runbook/model.js';
import { changesInfrastructure } from '../src/engine/conflicts.js';
import { needEngine, type Command, type CommandContext, type Reply } from './command.js';

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
      return startOrConfirm(args[0]!, kind, context);
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
    if (verb === 'start' && name && extra.length === 0) return startOrConfirm(name, null, context);
    throw new UsageError(`usage: ${runbook.usage}`);
  },
};

/**
 * A run that changes infrastructure — a failover, or a drill that promotes and switches DNS —
 * starts only from the confirmation with its plan; anything else starts at once.
 */
function startOrConfirm(
  name: string,
  kind: RunKind | null,
  context: CommandContext,
): Reply | Promise<Reply> {
  const found = resolveRunbookByName(name, context.config.runbooksDir);
  const runKind = kind ?? found.kind;
  if (changesInfrastructure(found, runKind) && found.service)
    return { type: 'confirm', kind: runKind, service: found.service, runbook: found.name };
  return start(name, runKind, context);
}

async function start(name: string, kind: RunKind, context: CommandContext): Promise<Reply> {
  const result = await needEngine(context).startRun({
    key: context.key ?? `${context.user}:${name}:${Date.now()}`,
    actor: context.actor ?? { user: context.user, via: 'slack' },
    runbook: name,
    kind,
  });
  return {
    type: 'started',
    runId: result.runId,
    text: result.replayed
      ? `already started: run ${result.runId}`
      : `${kind} started with runbook ${name}: run \`${result.runId}\``,
  };
}

function list(context: CommandContext): Reply {
  const library = loadRunbookLibrary(context.config.runbooksDir);
  const lines = library.runbooks.map(
    (r) =>
      `• \`${escape(r.name)}\` — ${clip(r.title, 150)} (${r.kind}${r.service ? `, ${escape(r.service)}` : ''}, ${r.phases.reduce((n, p) => n + p.steps.length, 0)} steps, reviewed ${r.reviewed ?? 'never'})`,
  );
  const broken = library.errors.map((e) => `• :warning: ${clip(e.message, 300)}`);
  return {
    type: 'message',
    text: [`*Runbooks* in ${library.dir}`, ...lines, ...broken].join('\n'),
  };
}

function show(name: string, context: CommandContext): Reply {
  const found = resolveRunbookByName(name, context.config.runbooksDir);
  const lines = [
    `*${clip(found.title, 150)}* — ${found.kind}${found.service ? ` · ${escape(found.service)}` : ''}${found.owner ? ` · owner ${clip(found.owner, 80)}` : ''}`,
  ];
  for (const phase of found.phases) {
    lines.push(
      `*${clip(phase.title, 150)}*${phase.budgetMinutes === null ? '' : ` (${formatDuration(phase.budgetMinutes * 60)})`}`,
    );
    for (const step of phase.steps) {
      lines.push(
        `${step.index + 1}. ${step.checklist ? '☐ ' : ''}${clip(step.text, 300)}${step.action ? ` \`${step.action}\`` : ''}${step.approval ? ' :lock:' : ''}`,
      );
    }
  }
  return { type: 'message', text: lines.join('\n') };
}
