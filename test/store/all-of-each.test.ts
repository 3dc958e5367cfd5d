// allOfEach: one row per parameter set, in the order asked, whatever their number (a compound
// SELECT is sent in slices under SQLite's limit on its parts).

import { describe, expect, it } from 'vitest';
import { allOfEach, openStore } from '../../src/store/db.js';

describe('allOfEach', () => {
  it('answers each parameter set in order, and none for a set with no row', async () => {
    const store = openStore(':memory:');
    for (let i = 0; i < 600; i++)
      await store.run(
        'INSERT INTO check_results (check_name, service, ok, summary, at) VALUES (?, ?, 1, ?, ?)',
        'backups',
        `service-${i % 300}`,
        `result ${i}`,
        '2026-11-01T00:00:00Z',
      );
    const services = Array.from({ length: 301 }, (_, i) => `service-${300 - i}`);
    const rows = await allOfEach<{ service: string; summary: string }>(
      store,
      `SELECT service, summary FROM check_results WHERE check_name = ? AND service = ?
       ORDER BY id DESC LIMIT 1`,
      services.map((service) => ['backups', service]),
    );
    // service-300 has no result; every other one its newest (the second round of inserts).
    expect(rows).toHaveLength(300);
    expect(rows[0]).toEqual({ service: 'service-299', summary: 'result 599' });
    expect(rows.at(-1)).toEqual({ service: 'service-0', summary: 'result 300' });
    expect(rows.map((row) => row.service)).toEqual(services.slice(1));
    await store.close();
  });
});
