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

/** Whole numbers, or two decimals below 10 (a 0.3 ms query is not "0 ms"). */
function figure(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(0);
}

export function formatSummary(label: string, values: number[], unit = 'ms'): string {
  const { min, median, max } = summarize(values);
  return `  ${label.padEnd(58)} min ${figure(min)} / median ${figure(median)} / max ${figure(max)} ${unit}`;
}

export function formatRatio(ours: number[], baseline: number[]): string {
  const a = summarize(ours).median;
  const b = summarize(baseline).median;
  return `  ratio of medians ${(a / b).toFixed(2)}x (${figure(a - b)} ms added)`;
}

/** How long `fn` takes, in milliseconds. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Both sides `rounds` times, alternating, after one warm-up of each; the timings of each side. */
export async function alternate(
  rounds: number,
  ours: () => unknown,
  bare: () => unknown,
): Promise<[number[], number[]]> {
  await ours();
  await bare();
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < rounds; round++) {
    a.push(await timeMs(ours));
    b.push(await timeMs(bare));
  }
  return [a, b];
}
