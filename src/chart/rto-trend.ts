// Each service's achieved RTO across failovers, failbacks, switchovers and drills, against its
// objective: a PNG chart (a point per run, green when it met the objective, red when it missed;
// the objective a dashed red line) and a text sparkline for where no image can go.

import { formatDuration } from '../duration.js';
import type { Sql } from '../store/db.js';
import { drawText, textWidth } from './font.js';
import { Canvas, type Rgb } from './png.js';

export interface RtoPoint {
  runId: string;
  kind: string;
  finishedAt: string;
  rtoSeconds: number;
}

/** The kinds whose RTO is a measured recovery (a tabletop recovers nothing). */
const MEASURED_KINDS = ['failover', 'failback', 'switchover', 'drill'];

/** The service's last `limit` runs with a measured RTO, oldest first. */
export async function rtoHistory(db: Sql, service: string, limit = 30): Promise<RtoPoint[]> {
  const rows = await db.all<{ id: string; kind: string; finished_at: string; rto_seconds: number }>(
    `SELECT id, kind, finished_at, rto_seconds FROM runs
      WHERE service = ? AND kind IN (${MEASURED_KINDS.map(() => '?').join(', ')})
        AND finished_at IS NOT NULL AND rto_seconds IS NOT NULL
      ORDER BY finished_at DESC LIMIT ?`,
    service,
    ...MEASURED_KINDS,
    limit,
  );
  return rows.reverse().map((row) => ({
    runId: row.id,
    kind: row.kind,
    finishedAt: row.finished_at,
    rtoSeconds: row.rto_seconds,
  }));
}

export const CHART = { width: 640, height: 320, left: 64, right: 616, top: 20, bottom: 284 };
export const COLOURS = {
  background: [255, 255, 255] as Rgb,
  axis: [60, 60, 60] as Rgb,
  grid: [225, 225, 225] as Rgb,
  line: [150, 150, 150] as Rgb,
  met: [46, 160, 67] as Rgb,
  missed: [207, 34, 46] as Rgb,
  objective: [207, 34, 46] as Rgb,
};

/** Where the chart puts each run and the objective, in pixels (the tests read pixels there). */
export function chartLayout(
  points: readonly RtoPoint[],
  objectiveSeconds: number,
): { yMax: number; step: number; y: (seconds: number) => number; xs: number[] } {
  const top = Math.max(objectiveSeconds * 1.25, ...points.map((p) => p.rtoSeconds * 1.1), 1);
  const step = tickStep(top);
  const yMax = Math.ceil(top / step) * step;
  const y = (seconds: number) =>
    Math.round(CHART.bottom - (seconds / yMax) * (CHART.bottom - CHART.top));
  const span = CHART.right - CHART.left - 40;
  const xs = points.map((_, i) =>
    Math.round(
      points.length === 1
        ? (CHART.left + CHART.right) / 2
        : CHART.left + 20 + (span * i) / (points.length - 1),
    ),
  );
  return { yMax, step, y, xs };
}

const STEPS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];

/** A round tick interval that puts at most five ticks on the axis. */
function tickStep(top: number): number {
  return STEPS.find((step) => top / step <= 5) ?? Math.ceil(top / 5 / 86_400) * 86_400;
}

export function renderRtoChart(points: readonly RtoPoint[], objectiveSeconds: number): Buffer {
  const canvas = new Canvas(CHART.width, CHART.height, COLOURS.background);
  const { yMax, step, y, xs } = chartLayout(points, objectiveSeconds);
  // Grid at round intervals, labelled; the axes.
  for (let seconds = 0; seconds <= yMax; seconds += step) {
    const gy = y(seconds);
    if (seconds > 0) canvas.line(CHART.left + 1, gy, CHART.right, gy, COLOURS.grid);
    const label = seconds === 0 ? '0' : formatDuration(seconds);
    drawText(canvas, label, CHART.left - 8 - textWidth(label), gy - 5, COLOURS.axis);
  }
  canvas.line(CHART.left, CHART.top, CHART.left, CHART.bottom, COLOURS.axis, 2);
  canvas.line(CHART.left, CHART.bottom, CHART.right, CHART.bottom, COLOURS.axis, 2);
  // The objective, labelled at the right.
  const oy = y(objectiveSeconds);
  canvas.line(CHART.left + 2, oy, CHART.right, oy, COLOURS.objective, 2, 8);
  const label = formatDuration(objectiveSeconds);
  drawText(canvas, label, CHART.right - textWidth(label), oy - 14, COLOURS.objective);
  // The runs, joined in order.
  for (let i = 1; i < points.length; i++)
    canvas.line(
      xs[i - 1]!,
      y(points[i - 1]!.rtoSeconds),
      xs[i]!,
      y(points[i]!.rtoSeconds),
      COLOURS.line,
      2,
    );
  points.forEach((point, i) =>
    canvas.disc(
      xs[i]!,
      y(point.rtoSeconds),
      5,
      point.rtoSeconds <= objectiveSeconds ? COLOURS.met : COLOURS.missed,
    ),
  );
  return canvas.png();
}

const BARS = '▁▂▃▄▅▆▇█';

/** `▂▃▅█▂ last 12m, objective 15m: met (4 of 5 met)` — the chart in one line of text. */
export function rtoSparkline(points: readonly RtoPoint[], objectiveSeconds: number): string {
  if (!points.length)
    return `no measured recovery yet (objective ${formatDuration(objectiveSeconds)})`;
  const top = Math.max(objectiveSeconds, ...points.map((p) => p.rtoSeconds));
  const bars = points
    .map(
      (p) => BARS[Math.min(BARS.length - 1, Math.floor((p.rtoSeconds / top) * (BARS.length - 1)))],
    )
    .join('');
  const last = points.at(-1)!;
  const met = points.filter((p) => p.rtoSeconds <= objectiveSeconds).length;
  return `${bars} last ${formatDuration(Math.round(last.rtoSeconds))} (${last.kind}), objective ${formatDuration(objectiveSeconds)}: ${last.rtoSeconds <= objectiveSeconds ? 'met' : 'MISSED'} (${met} of ${points.length} met)`;
}
