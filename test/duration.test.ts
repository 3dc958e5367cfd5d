import { describe, expect, it } from 'vitest';
import { formatDuration, parseDurationSeconds } from '../src/duration.js';

describe('durations', () => {
  it('reads the units people write in config', () => {
    expect(parseDurationSeconds('90s')).toBe(90);
    expect(parseDurationSeconds('15m')).toBe(900);
    expect(parseDurationSeconds('6h')).toBe(21_600);
    expect(parseDurationSeconds('1d')).toBe(86_400);
    expect(parseDurationSeconds('1h30m')).toBe(5400);
    expect(parseDurationSeconds('1.5h')).toBe(5400);
  });

  it('rejects what is not a duration', () => {
    for (const text of ['soon', '15', 'm', '15 minutes', '0m', '-5m', '']) {
      expect(parseDurationSeconds(text)).toBeNull();
    }
  });

  it('prints durations short and exact to the second', () => {
    expect(formatDuration(37)).toBe('37s');
    expect(formatDuration(252)).toBe('4m 12s');
    expect(formatDuration(3900)).toBe('1h 5m');
    expect(formatDuration(90_000)).toBe('1d 1h');
  });
});
