// A long wait told as it goes: at each new status, and every 15 s while a poll hangs.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportWhileWaiting } from '../../src/providers/progress.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('reportWhileWaiting', () => {
  it('says the last status again every 15 s while a poll does not come back, and stops with the wait', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const heard: string[] = [];
    let answer!: () => void;
    const hanging = new Promise<void>((resolve) => (answer = resolve));
    const waiting = reportWhileWaiting(
      'RDS production-dr (us-west-2) promoting',
      (text) => heard.push(text),
      async (seen) => {
        seen('modifying, still a replica');
        await hanging; // the next DescribeDBInstances hangs
        return 'promoted';
      },
    );
    await vi.advanceTimersByTimeAsync(31_000);
    expect(heard).toEqual([
      'RDS production-dr (us-west-2) promoting: modifying, still a replica, 0s so far',
      'RDS production-dr (us-west-2) promoting: modifying, still a replica, 15s so far',
      'RDS production-dr (us-west-2) promoting: modifying, still a replica, 30s so far',
    ]);
    answer();
    expect(await waiting).toBe('promoted');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(heard).toHaveLength(3);
  });

  it('says a new status at once, and before the first answer that it waits for one', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const heard: string[] = [];
    let step!: () => void;
    const waiting = reportWhileWaiting(
      'change /change/C1',
      (text) => heard.push(text),
      async (seen) => {
        await new Promise<void>((resolve) => (step = resolve));
        seen('PENDING');
      },
    );
    await vi.advanceTimersByTimeAsync(15_000);
    step();
    await waiting;
    expect(heard).toEqual([
      'change /change/C1: waiting for the first answer, 15s so far',
      'change /change/C1: PENDING, 15s so far',
    ]);
  });

  it('says nothing without a listener', async () => {
    expect(
      await reportWhileWaiting('x', undefined, (seen) => (seen('a'), Promise.resolve(42)), 1),
    ).toBe(42);
  });
});
