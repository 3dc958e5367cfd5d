// The real PostgreSQL primary + streaming standby for a test file: started once before its tests,
// stopped after. The code that starts it is src/local/postgres-pair.ts, shared with local mode.

import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startPostgresPair, type PostgresPair } from '../../src/local/postgres-pair.js';

export function usePostgresPair(): { get(): PostgresPair } {
  let pair: PostgresPair | null = null;
  beforeAll(async () => {
    pair = await startPostgresPair();
  }, 120_000);
  afterAll(async () => {
    await pair?.stop();
  });
  return {
    get() {
      if (!pair) throw new Error('the PostgreSQL pair is not running');
      return pair;
    },
  };
}

/** Runs SQL on a server and returns the rows. */
export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Polls `check` until it returns true (a condition, not a sleep), or fails after `timeoutMs`. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
