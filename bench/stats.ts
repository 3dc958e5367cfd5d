// Figures for benchmarks that compare two sides: min / median / max of each, and the ratio of the
// medians. Both sides are run alternately in the same process, after a warm-up round.

export interface Summary {
  min: number;
  median: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: sorted[0] ?? 0,
    median: sorted[Math.floor(sorted.length / 2)] ?? 0,
    max: sorted.at(-1) ?? 0,
  };
}

export function formatSummary(label: string, values: number[], unit = 'ms'): string {
  const { min, median, max } = summarize(values);
  return `  ${label.padEnd(58)} min ${min.toFixed(0)} / median ${median.toFixed(0)} / max ${max.toFixed(0)} ${unit}`;
}

export function formatRatio(ours: number[], baseline: number[]): string {
  const a = summarize(ours).median;
  const b = summarize(baseline).median;
  return `  ratio of medians ${(a / b).toFixed(2)}x (${(a - b).toFixed(0)} ms added)`;
}
