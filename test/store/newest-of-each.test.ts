// newestOfEach: the newest row of each group, in the order asked, none for a group without one,
// whatever the number of groups (sent in slices), with a filter.

import { describe, expect, it } from 'vitest';
import { newestOfEach, openStore } from '../../src/store/db.js';

describe('newestOfEach', () => {
  it('answers each group in order with its newest row, and none for a group with no row', async () => {
    const store = openStore(':memory:');
    for (let i = 0; i < 1200; i++)
      await store.run(
        'INSERT INTO check_results (check_name, service, ok, summary, at) VALUES (?, ?, ?, ?, ?)',
        'backups',
        `service-${i % 600}`,
        i >= 1100 ? 0 : 1,
        `result ${i}`,
        '2026-11-01T00:00:00Z',
      );
    const services = Array.from({ length: 601 }, (_, i) => `service-${600 - i}`);
    const query = {
      table: 'check_results',
      fields: 'service, summary',
      keys: ['check_name', 'service'],
      groups: services.map((service) => ['backups', service]),
      newest: 'id DESC',
    };
    const rows = await newestOfEach<{ service: string; summary: string }>(store, query);
    // service-600 has no result; every other one its newest (the second round of inserts).
    expect(rows).toHaveLength(600);
    expect(rows[0]).toEqual({ service: 'service-599', summary: 'result 1199' });
    expect(rows.at(-1)).toEqual({ service: 'service-0', summary: 'result 600' });
    expect(rows.map((row) => row.service)).toEqual(services.slice(1));

    // Only the rows the filter keeps: the newest passing result of each.
    const passing = await newestOfEach<{ service: string; summary: string }>(store, {
      ...query,
      groups: [
        ['backups', 'service-599'],
        ['backups', 'service-1'],
      ],
      where: 'ok = 1',
    });
    expect(passing).toEqual([
      { service: 'service-599', summary: 'result 599' },
      { service: 'service-1', summary: 'result 601' },
    ]);
    await store.close();
  });
});
