// Protection episodes: a state that goes on is refreshed at most once a minute (a `/dr status`
// answers from a read, not a durable write); a change opens a new episode at once.

import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { currentProtection, recordProtection } from '../../src/store/protection.js';

const at = (seconds: number) => new Date(Date.parse('2026-11-01T03:00:00Z') + seconds * 1000);
const seen = (state: 'protected' | 'unprotected', detail: string, seconds: number) => ({
  service: 'payments-db',
  state,
  writer: 'primary' as const,
  detail,
  at: at(seconds),
});

describe('recordProtection', () => {
  it('writes an unchanged state at most once a minute, and a change at once', async () => {
    const store = openStore(':memory:');
    const changes = async () => (await store.get<{ n: number }>('SELECT total_changes() AS n'))!.n;
    const first = await recordProtection(store, seen('protected', 'lag 0.1 s', 0));
    expect(first.changed).toBe(true);

    const before = await changes();
    const again = await recordProtection(store, seen('protected', 'lag 0.4 s', 30));
    expect(await changes()).toBe(before); // nothing written
    expect(again).toMatchObject({
      changed: false,
      episode: { id: first.episode.id, detail: 'lag 0.4 s' },
    });
    expect((await currentProtection(store, 'payments-db'))!.checkedAt).toBe(at(0).toISOString());

    await recordProtection(store, seen('protected', 'lag 0.2 s', 61));
    expect(await currentProtection(store, 'payments-db')).toMatchObject({
      id: first.episode.id,
      detail: 'lag 0.2 s',
      checkedAt: at(61).toISOString(),
    });

    const lost = await recordProtection(store, seen('unprotected', 'replica down', 62));
    expect(lost.changed).toBe(true);
    expect(lost.episode).toMatchObject({ state: 'unprotected', startedAt: at(62).toISOString() });
    await store.close();
  });
});
