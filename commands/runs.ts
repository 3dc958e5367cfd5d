// `/dr abort <run> <reason>` and `/dr report <run>`: act on or read one run.

import { formatDuration } from '../src/duration.js';
import { UsageError } from '../src/errors.js';
import { listStepEvents } from '../src/store/steps.js';
import { needEngine, type Command, type Reply } from './command.js';

export const abort: Command<Reply> = {
  name: 'abort',
  usage: '/dr abort <run> <reason>',
  summary: 'stop a run, saying why',
  run(args, context) {
    const [runId, ...reason] = args;
    if (!runId || reason.length === 0) throw new UsageError(`usage: ${abort.usage}`);
    const result = needEngine(context).abortRun({
      key: context.key ?? `abort:${runId}:${context.user}`,
      actor: { user: context.user, via: 'slack' },
      runId,
      reason: reason.join(' '),
    });
    return { type: 'message', text: result.message };
  },
};

export const report: Command<Reply> = {
  name: 'report',
  usage: '/dr report <run>',
  summary: "a run's timeline: every step, who did it, how long it took",
  run(args, context) {
    if (args.length !== 1) throw new UsageError(`usage: ${report.usage}`);
    const view = needEngine(context).getRun(args[0]!);
    const { run } = view;
    const lines = [
      `*Run ${run.id}* — ${run.kind} of \`${run.runbook}\`${run.service ? ` for ${run.service}` : ''}: ${run.status}${run.outcome ? ` (${run.outcome})` : ''}`,
      `impact ${run.impactAt} · started ${run.startedAt} by <@${run.startedBy}>${run.finishedAt ? ` · finished ${run.finishedAt}` : ''}`,
      `RTO ${run.rtoSeconds === null ? 'not reached' : formatDuration(run.rtoSeconds)} · RPO exposure ${run.rpoExposureSeconds === null ? 'n/a' : `${run.rpoExposureSeconds.toFixed(1)} s`}`,
      '*Timeline*',
      ...listStepEvents(context.store.db, run.id).map(
        (event) =>
          `${event.at.slice(11, 19)} step ${event.stepIndex + 1} ${event.event} by ${event.actor === 'lifeboat' ? 'lifeboat' : `<@${event.actor}>`}`,
      ),
    ];
    return { type: 'message', text: lines.join('\n') };
  },
};
