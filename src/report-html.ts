// `lifeboat report RUN --html`: the postmortem as one self-contained page — the Markdown report
// rendered (every piece of runbook or typed text escaped: no HTML passes through), the phases on
// a timeline against their budgets, and the service's RTO trend chart — no script, no request
// anywhere: it opens from a file or an attachment as it is.

import { micromark } from 'micromark';
import type { Config } from './config.js';
import { renderRtoChart, rtoHistory } from './chart/rto-trend.js';
import type { RunView } from './engine/run-view.js';
import { formatDuration } from './duration.js';
import { escapeAttribute, escapeHtml } from './html.js';
import { renderReport } from './report.js';
import type { Sql } from './store/db.js';

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; color: #1f2328; margin: 0; background: #f6f8fa; }
main { max-width: 920px; margin: 2em auto; padding: 2em; background: #fff; border: 1px solid #d0d7de; border-radius: 8px; }
h1 { font-size: 1.6em; margin-top: 0; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
pre { background: #f6f8fa; padding: .8em; overflow-x: auto; border-radius: 6px; }
.timeline text { font: 12px system-ui, sans-serif; fill: #1f2328; }
img { max-width: 100%; }`;

export async function renderHtmlReport(
  view: RunView,
  db: Sql,
  config: Config,
  now: Date,
): Promise<string> {
  const markdown = await renderReport(view, db, config, 'markdown', now);
  const body = micromark(markdown); // CommonMark, raw HTML escaped (allowDangerousHtml is off)
  const service = view.run.service ? config.services[view.run.service] : undefined;
  const points = service ? await rtoHistory(db, service.name) : [];
  const chart =
    service && points.length
      ? `<h2>RTO trend of ${escapeHtml(service.name)}</h2>\n<p><img alt="${escapeAttribute(`achieved RTO of the last ${points.length} recoveries of ${service.name} against the objective ${formatDuration(service.rtoSeconds)}`)}" src="data:image/png;base64,${renderRtoChart(points, service.rtoSeconds).toString('base64')}"></p>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${view.runbook.title} — ${view.run.kind} ${view.run.id}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
<h2>Phase timeline</h2>
${phaseTimeline(view, now)}
${chart}
</main>
</body>
</html>
`;
}

/** Each phase as a bar from when it began to when it ended, over the outline of its budget. */
export function phaseTimeline(view: RunView, now: Date): string {
  const start = Date.parse(view.run.impactAt);
  const ends = view.phases.flatMap((phase) => {
    if (!phase.startedAt) return [];
    const began = Date.parse(phase.startedAt);
    const budget = phase.budgetMinutes === null ? 0 : phase.budgetMinutes * 60_000;
    return [began + (phase.elapsedSeconds ?? 0) * 1000, began + budget];
  });
  const end = Math.max(
    start + 60_000,
    ...ends,
    view.run.finishedAt ? Date.parse(view.run.finishedAt) : now.getTime(),
  );
  const width = 860;
  const label = 220;
  const row = 28;
  const x = (at: number) => label + ((at - start) / (end - start)) * (width - label - 10);
  const rows = view.phases.map((phase, i) => {
    const y = 10 + i * row;
    const title = `<text x="0" y="${y + 14}">${escapeHtml(phase.title.slice(0, 34))}</text>`;
    if (!phase.startedAt) return `${title}<text x="${label}" y="${y + 14}">not reached</text>`;
    const began = Date.parse(phase.startedAt);
    const budget =
      phase.budgetMinutes === null
        ? ''
        : `<rect x="${x(began).toFixed(1)}" y="${y}" width="${(x(began + phase.budgetMinutes * 60_000) - x(began)).toFixed(1)}" height="18" fill="none" stroke="#8c959f" stroke-dasharray="4 3"/>`;
    const elapsed = (phase.elapsedSeconds ?? 0) * 1000;
    const bar = `<rect x="${x(began).toFixed(1)}" y="${y + 3}" width="${Math.max(1, x(began + elapsed) - x(began)).toFixed(1)}" height="12" fill="${phase.isOverBudget ? '#cf222e' : '#2ea043'}"><title>${escapeHtml(`${phase.title}: ${formatDuration(Math.round(elapsed / 1000))}${phase.budgetMinutes === null ? '' : ` of ${phase.budgetMinutes} min`}${phase.isOverBudget ? ' — over budget' : ''}`)}</title></rect>`;
    return `${title}${budget}${bar}`;
  });
  const height = 20 + view.phases.length * row;
  return `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="phases against their budgets, from the impact">${rows.join('')}</svg>`;
}
