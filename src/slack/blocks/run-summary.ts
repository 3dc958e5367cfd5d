// The last message of a run: achieved RTO against the objective, RPO exposure, each phase against
// its budget, findings (notes) for tabletops, and where the full report is.

import { formatDuration } from '../../duration.js';
import { describeExposure, type RunView } from '../../engine/run-view.js';
import { clip, context, escape, header, mention, outcomeText, section, type Block } from './kit.js';

export function renderRunSummary(
  view: RunView,
  objectives: { rtoSeconds: number; rpoSeconds: number } | null,
  notes: { author: string; text: string }[],
  auditHead: { seq: number; hash: string } | null = null,
): Block[] {
  const { run } = view;
  const lines: string[] = [];
  if (run.rtoSeconds !== null) {
    const verdict = objectives
      ? run.rtoSeconds <= objectives.rtoSeconds
        ? ' — *met* :white_check_mark:'
        : ' — *missed* :x:'
      : '';
    lines.push(
      `*Achieved RTO:* ${formatDuration(run.rtoSeconds)}${objectives ? ` (objective ${formatDuration(objectives.rtoSeconds)})` : ''}${verdict}`,
    );
  }
  const exposure = describeExposure(run);
  if (exposure) {
    lines.push(
      `*RPO exposure:* ${escape(exposure)}${objectives ? ` (objective ${formatDuration(objectives.rpoSeconds)})` : ''}`,
    );
  }
  if (view.unprotected?.ongoing) {
    lines.push(
      `*UNPROTECTED* since the promotion: no replica follows the new primary. Rebuild the old primary as its replica (the failback runbook starts with it); \`/dr status\` says when it is protected again.`,
    );
  }
  if (run.outcome) lines.push(`*Outcome:* ${outcomeText(run.outcome)}`);
  const phases = view.phases
    .filter((phase) => phase.elapsedSeconds !== null)
    .map(
      (phase) =>
        `• ${clip(phase.title, 150)}: ${formatDuration(phase.elapsedSeconds ?? 0)}${phase.budgetMinutes === null ? '' : ` of ${phase.budgetMinutes} min${phase.isOverBudget ? ' *over budget*' : ''}`}`,
    );
  const blocks: Block[] = [
    header(`Run ${run.status}: ${view.runbook.title}`),
    section(lines.join('\n') || `Run ${run.status}.`),
  ];
  if (phases.length) blocks.push(section(`*Phases*\n${phases.join('\n')}`));
  if (notes.length)
    blocks.push(
      section(
        `*${run.kind === 'tabletop' ? 'Findings' : 'Notes'}*\n${notes.map((note) => `• ${clip(note.text, 300)} — ${mention(note.author)}`).join('\n')}`,
      ),
    );
  blocks.push(
    context(
      `Full timeline: \`/dr report ${run.id}\` · for a postmortem: \`lifeboat report ${run.id} --markdown\`${auditHead ? ` · audit log head #${auditHead.seq} \`${auditHead.hash}\`` : ''}`,
    ),
  );
  return blocks;
}
