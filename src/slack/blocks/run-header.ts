// The run's header message, updated in place: what runs, where it stands, the RTO clock.

import { isInFlight } from '../../store/runs.js';
import { formatDuration } from '../../duration.js';
import type { RunView } from '../../engine/run-view.js';
import { ActionId } from '../ids.js';
import {
  actions,
  button,
  clip,
  context,
  escape,
  header,
  mention,
  outcomeText,
  section,
  slackTime,
  type Block,
} from './kit.js';

export function renderRunHeader(view: RunView, rtoObjectiveSeconds: number | null): Block[] {
  const { run, runbook } = view;
  const isTabletop = run.kind === 'tabletop';
  const title = `${isTabletop ? 'TABLETOP — nothing is executed' : run.kind.toUpperCase()} · ${runbook.title}`;
  const phase = view.current ? view.phases[view.current.phaseIndex] : null;
  const clock =
    run.rtoSeconds !== null
      ? `RTO *${formatDuration(run.rtoSeconds)}*`
      : `clock *${formatDuration(view.elapsedSeconds)}*`;
  const objective =
    rtoObjectiveSeconds === null ? '' : ` of ${formatDuration(rtoObjectiveSeconds)} objective`;
  const lines = [
    `*Status:* ${statusText(view)}`,
    // A tabletop executes nothing and recovers nothing: it has a duration, not an RTO.
    isTabletop
      ? `running for *${formatDuration(view.elapsedSeconds)}* (a tabletop measures no RTO)`
      : `${clock}${objective} since impact (${slackTime(run.impactAt, 'time')})`,
  ];
  if (phase) {
    const used = phase.elapsedSeconds === null ? '0s' : formatDuration(phase.elapsedSeconds);
    const budget =
      phase.budgetMinutes === null
        ? ''
        : ` — ${used} of ${phase.budgetMinutes} min budget${phase.isOverBudget ? ' *OVER BUDGET*' : ''}`;
    lines.push(`*Phase:* ${clip(phase.title, 150)}${budget}`);
  }
  if (view.current)
    lines.push(
      `*Step ${view.current.index + 1}/${view.steps.length}:* ${clip(view.current.text, 300)}`,
    );
  const blocks: Block[] = [
    header(title),
    section(lines.join('\n')),
    context(
      `run \`${run.id}\` · runbook \`${escape(runbook.name)}\`${run.service ? ` · service *${escape(run.service)}*` : ''} · started by ${mention(run.startedBy)}`,
    ),
  ];
  if (isInFlight(run))
    blocks.push(actions(button('Abort run', ActionId.runAbort, run.id, 'danger')));
  return blocks;
}

function statusText(view: RunView): string {
  const { run, current } = view;
  if (run.status === 'succeeded') return 'recovered :white_check_mark:';
  if (run.status === 'aborted' || run.status === 'failed') {
    if (!run.outcome) return run.status;
    // "aborted by @alice: …" says the status already; "denied by …" and the rest need it.
    return run.outcome.startsWith(run.status)
      ? outcomeText(run.outcome)
      : `${run.status} — ${outcomeText(run.outcome)}`;
  }
  if (!current) return run.status;
  const waiting = {
    operator: 'waiting for the team',
    approval: 'waiting for approval',
    'rpo-gate': 'blocked by the RPO gate',
    'fence-gate': 'blocked: the old primary still accepts writes',
    failure: 'step failed: needs retry or skip',
  } as const;
  if (current.state === 'executing') return `running ${current.action}`;
  return current.waitingOn ? waiting[current.waitingOn] : 'running';
}
