// The RTO trend chart, decoded by an independent PNG reader (pngjs) and read pixel by pixel where
// the layout puts each run and the objective; and its one-line text fallback.

import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  CHART,
  COLOURS,
  chartLayout,
  renderRtoChart,
  rtoSparkline,
  type RtoPoint,
} from '../../src/chart/rto-trend.js';

const points: RtoPoint[] = [
  { runId: 'r-1', kind: 'drill', finishedAt: '2026-03-01T10:10:00Z', rtoSeconds: 600 },
  { runId: 'r-2', kind: 'failover', finishedAt: '2026-06-01T10:20:00Z', rtoSeconds: 1200 },
  { runId: 'r-3', kind: 'drill', finishedAt: '2026-09-01T10:05:00Z', rtoSeconds: 300 },
];

describe('the RTO trend chart', () => {
  it('is a PNG with a green point for each run that met the objective, red for one that missed, and the objective drawn across', () => {
    const png = renderRtoChart(points, 900);
    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    expect(png.length).toBeGreaterThan(1_000);
    expect(png.length).toBeLessThan(50_000);
    const image = PNG.sync.read(png);
    expect([image.width, image.height]).toEqual([CHART.width, CHART.height]);
    const at = (x: number, y: number) => {
      const i = (y * image.width + x) * 4;
      return [image.data[i], image.data[i + 1], image.data[i + 2]];
    };
    const { xs, y } = chartLayout(points, 900);
    expect(at(xs[0]!, y(600))).toEqual([...COLOURS.met]);
    expect(at(xs[1]!, y(1200))).toEqual([...COLOURS.missed]);
    expect(at(xs[2]!, y(300))).toEqual([...COLOURS.met]);
    expect(at(CHART.left + 4, y(900))).toEqual([...COLOURS.objective]); // the objective's first dash
    expect(at(CHART.left, CHART.bottom - 10)).toEqual([...COLOURS.axis]);
    expect(at(2, 2)).toEqual([...COLOURS.background]);
    // The failover that missed sits above the objective, the drills below it.
    expect(y(1200)).toBeLessThan(y(900));
    expect(y(600)).toBeGreaterThan(y(900));
  });

  it('says the same in one line of text', () => {
    expect(rtoSparkline(points, 900)).toBe('▄█▂ last 5m (drill), objective 15m: met (2 of 3 met)');
    expect(rtoSparkline([], 900)).toBe('no measured recovery yet (objective 15m)');
  });
});
