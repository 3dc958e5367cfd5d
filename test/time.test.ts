import { describe, expect, it } from 'vitest';
import { formatLocal } from '../src/time.js';

describe('local times', () => {
  it('names the zone, and moves with it', () => {
    const at = new Date('2026-11-24T03:12:05Z');
    expect(formatLocal(at, 'UTC')).toBe('2026-11-24 03:12:05 UTC');
    expect(formatLocal(at, 'Europe/Berlin')).toBe('2026-11-24 04:12:05 UTC+1');
    expect(formatLocal(at, 'America/New_York')).toBe('2026-11-23 22:12:05 UTC-5');
  });
});
