// What the PostgreSQL failover benches share: the runbook, a pair whose primary was killed, and the
// bare baselines — one client promotes the standby and writes one row. `pg_promote(true)` is the
// issue's baseline; PostgreSQL looks every 100 ms whether the promotion has ended. `polled`
// promotes without waiting and asks pg_is_in_recovery() every 5 ms, as lifeboat's promote does,
// so lifeboat's own cost shows apart from that wait.

import pg from 'pg';
import { startPostgresPair, type PostgresPair } from '../src/providers/postgres/servers.js';

export const FAILOVER_RUNBOOK = `---
title: Failover
kind: failover
service: payments-db
---
## Fail over (15 minutes)
1. Promote \`action: db.promote\`
2. Write \`action: db.verify-writable\`
`;

/** A streaming pair whose primary is dead: what a failover starts from. */
export async function pairWithPrimaryKilled(): Promise<PostgresPair> {
  const pair = await startPostgresPair();
  await pair.killPrimary();
  return pair;
}

export async function barePromoteAndWrite(
  url: string,
  wait: 'pg_promote' | 'polled',
): Promise<number> {
  const start = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  if (wait === 'pg_promote') await client.query('SELECT pg_promote(true, 60)');
  else {
    await client.query('SELECT pg_promote(false)');
    for (;;) {
      const { rows } = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      if (rows[0]?.r === false) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  await client.query('CREATE TABLE IF NOT EXISTS bench_write (id serial PRIMARY KEY)');
  await client.query('INSERT INTO bench_write DEFAULT VALUES');
  await client.end();
  return performance.now() - start;
}
