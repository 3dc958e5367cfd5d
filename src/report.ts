// A run's report: the facts (RTO against the objective, RPO exposure), each phase against its
// budget, the timeline of every step event with who did it, approvals, and notes. Plain text with
// local times for a terminal (`lifeboat report RUN`), Markdown for a postmortem (`--markdown`, UTC
// ISO times, as written to the store), Slack mrkdwn for `/dr report`.

import type { Config } from './config.js';
import { cliPersonName } from './people.js';
import { formatDuration } from './duration.js';
import type { Sql } from './store/db.js';
import { listStepEvents } from './store/steps.js';
import { describeExposure, type RunView } from './engine/run-view.js';
import { clip, outcomeText } from './mrkdwn.js';
import { formatLocal } from './time.js';
import { storedExpectation } from './checks/expectation.js';
import { describeExpectation } from './strategy.js';
import { rtoHistory, rtoSparkline } from './chart/rto-trend.js';

export async function renderReport(
  view: RunView,
  db: Sql,
  config: Config,
  style: 'text' | 'markdown' | 'slack',
  now: Date = new Date(),
): Promise<string> {
  const events = await listStepEvents(db, view.run.id);
  const notes = await db.all<{
    step_index: number | null;
    author: string;
    text: string;
    at: string;
  }>('SELECT step_index, author, text, at FROM notes WHERE run_id = ? ORDER BY id', view.run.id);
  const { run, runbook } = view;
  // A terminal shows times in its own zone, named; documents and Slack keep the stored UTC.
  const when = (iso: string) => (style === 'text' ? formatLocal(new Date(iso)) : iso);
  const service = run.service ? config.services[run.service] : undefined;
  const h = (text: string) =>
    style === 'markdown'
      ? `## ${text}`
      : style === 'text'
        ? `${text}\n${'-'.repeat(text.length)}`
        : `*${text}*`;
  // In Slack every piece of runbook or typed text is escaped and long ones cut; the markdown
  // report keeps everything as written.
  const t = (text: string, max = 1000) => (style === 'slack' ? clip(text, max) : text);
  // Slack renders a mention; a terminal shows the person's account name beside the ID when
  // cli.users knows it ("alice (U0ALICE)").
  const personName = cliPersonName(config.cliUsers);
  const who = (actor: string) =>
    actor === 'lifeboat' || actor === 'system'
      ? 'lifeboat'
      : style === 'slack'
        ? `<@${actor}>`
        : style === 'text'
          ? personName(actor)
          : actor;
  const lines = [
    style === 'markdown'
      ? `# ${runbook.title} — ${run.kind} ${run.id}`
      : style === 'text'
        ? `${runbook.title} — ${run.kind} ${run.id}`
        : `*${t(runbook.title, 150)}* — ${run.kind} \`${run.id}\``,
    '',
    `- Status: ${run.status}${run.outcome ? ` (${style === 'slack' ? outcomeText(run.outcome) : run.outcome})` : ''}`,
    `- Service: ${t(run.service ?? 'none')} · runbook \`${t(runbook.name)}\` (${t(runbook.file)})`,
    `- Impact: ${when(run.impactAt)} · started ${when(run.startedAt)} by ${who(run.startedBy)}${run.startedVia ? ` (${run.startedVia})` : ''}${run.finishedAt ? ` · finished ${when(run.finishedAt)}` : ''}`,
    `- Achieved RTO: ${run.rtoSeconds === null ? 'recovery not verified' : formatDuration(run.rtoSeconds)}${service ? ` (objective ${formatDuration(service.rtoSeconds)}${run.rtoSeconds === null ? '' : run.rtoSeconds <= service.rtoSeconds ? ', met' : ', MISSED'})` : ''}`,
    `- RPO exposure: ${t(describeExposure(run) ?? 'no promotion')}${service ? ` (objective ${formatDuration(service.rpoSeconds)})` : ''}`,
    ...(view.unprotected
      ? [
          `- Unprotected after promotion: ${formatDuration(view.unprotected.seconds)}${view.unprotected.ongoing ? ' so far — no replica follows the new primary yet' : ', until a replica was verified'} (since ${when(view.unprotected.since)})`,
        ]
      : []),
    ...(service
      ? [
          `- RTO trend of ${t(service.name)}: ${rtoSparkline(await rtoHistory(db, service.name), service.rtoSeconds)}`,
        ]
      : []),
    '',
    h('Phases'),
    ...view.phases.map(
      (phase) =>
        `- ${t(phase.title, 150)}: ${phase.elapsedSeconds === null ? 'not reached' : formatDuration(phase.elapsedSeconds)}${phase.budgetMinutes === null ? '' : ` of ${phase.budgetMinutes} min${phase.isOverBudget ? ' — OVER BUDGET' : ''}`}`,
    ),
    '',
    h('Steps'),
    ...view.steps.map(
      (step) =>
        `${step.index + 1}. [${step.state}] ${t(step.text, 300)}${step.action ? ` (${step.action})` : ''}${step.summary ? ` — ${t(step.summary)}` : ''}${step.actor ? ` — ${who(step.actor)}` : ''}`,
    ),
    '',
    h('Timeline'),
    ...events.map(
      (event) =>
        `- ${when(event.at)} step ${event.stepIndex + 1} ${event.event} by ${who(event.actor)}${event.event === 'run.aborted' && typeof event.details.reason === 'string' ? `: ${t(event.details.reason)}` : ''}`,
    ),
  ];
  const outputs = events.flatMap((event) => outputOf(event));
  if (outputs.length) {
    // What custom actions printed or were answered: all of it kept in a document, the tail in Slack.
    lines.push('', h('Output'));
    for (const { stepIndex, event, label, text, dropped } of outputs) {
      lines.push(
        `- step ${stepIndex + 1} ${event}, ${label}${dropped ? ` (the first ${dropped} bytes were not kept)` : ''}:`,
      );
      if (style === 'slack') lines.push(`\`\`\`${clip(lastLinesOf(text, 10), 1500)}\`\`\``);
      else if (style === 'markdown') lines.push(fenced(text));
      else
        lines.push(
          ...text
            .trimEnd()
            .split('\n')
            .map((line) => `    ${line}`),
        );
    }
  }
  const approvals = view.steps.flatMap((step) => step.approvals);
  if (approvals.length) {
    lines.push('', h('Approvals'));
    for (const approval of approvals) {
      const votes =
        approval.votes
          .map(
            (vote) =>
              `${vote.decision} by ${who(vote.approver)}${vote.via ? ` (${vote.via})` : ''} at ${when(vote.at)}`,
          )
          .join(', ') || 'no decisions';
      lines.push(
        `- step ${approval.stepIndex + 1} ${approval.gate}, requested by ${who(approval.requestedBy)}: ${approval.status} (${votes})${approval.reason ? ` — ${t(approval.reason)}` : ''}`,
      );
    }
  }
  if (run.kind === 'tabletop') {
    // A tabletop asks whether the plan would hold: each service's strategy as measured, and the
    // gaps against its objectives (the service of the run, or every service).
    lines.push('', h('Strategy against the objectives'));
    const services = service ? [service] : Object.values(config.services);
    for (const each of services) {
      const expectation = await storedExpectation(db, each, now);
      lines.push(`- ${t(each.name)}: ${t(describeExpectation(expectation))}`);
      for (const gap of expectation.gaps) lines.push(`  - GAP: ${t(gap)}`);
    }
  }
  if (notes.length) {
    lines.push('', h(run.kind === 'tabletop' ? 'Findings' : 'Notes'));
    for (const note of notes)
      lines.push(
        `- ${t(note.text)} — ${who(note.author)}${note.step_index === null ? '' : `, step ${note.step_index + 1}`}`,
      );
  }
  return lines.join('\n');
}

interface Output {
  stepIndex: number;
  event: string;
  label: string;
  text: string;
  dropped: number;
}

/** A command's stdout and stderr, or an HTTP answer's body, as an action recorded them. */
function outputOf(event: {
  stepIndex: number;
  event: string;
  details: Record<string, unknown>;
}): Output[] {
  const found: Output[] = [];
  const output = event.details.output as
    | { stdout?: string; stderr?: string; droppedBytes?: { stdout?: number; stderr?: number } }
    | undefined;
  for (const stream of ['stdout', 'stderr'] as const) {
    const text = output?.[stream];
    if (typeof text === 'string' && text.trim() !== '')
      found.push({
        stepIndex: event.stepIndex,
        event: event.event,
        label: stream,
        text,
        dropped: output?.droppedBytes?.[stream] ?? 0,
      });
  }
  const response = event.details.response as { status?: number; body?: string } | null | undefined;
  if (response && typeof response.body === 'string' && response.body.trim() !== '')
    found.push({
      stepIndex: event.stepIndex,
      event: event.event,
      label: `HTTP ${response.status ?? '?'} answer`,
      text: response.body,
      dropped: 0,
    });
  return found;
}

function lastLinesOf(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

/** A Markdown code block that the text cannot close early. */
function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}\n${text.trimEnd()}\n${fence}`;
}
