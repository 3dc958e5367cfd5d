// The real PostgreSQL primary + streaming standby for a test file: started once before its tests,
// stopped after. The code that starts it is src/providers/postgres/servers.ts, shared with local mode.

import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startPostgresPair, type PostgresPair } from '../../src/providers/postgres/servers.js';

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

/** Whether a new session on `url` may write (tried in a transaction rolled back); false if down. */
export async function acceptsWrite(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('BEGIN');
    await client.query('CREATE TEMP TABLE write_probe (id int)');
    await client.query('ROLLBACK');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Looks at both servers again and again, as fast as they answer, until stopped: how many rounds,
 * and in how many both accepted a write (split brain).
 */
export function watchForTwoWriters(urls: [string, string]): {
  stop(): Promise<{ rounds: number; bothWritable: number }>;
} {
  let stopped = false;
  let rounds = 0;
  let bothWritable = 0;
  const loop = (async () => {
    while (!stopped) {
      const [a, b] = await Promise.all(urls.map(acceptsWrite));
      rounds++;
      if (a && b) bothWritable++;
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { rounds, bothWritable };
    },
  };
}

/**
 * An application writing one row after another to `url` (reconnecting after errors, as a real one
 * would), until stopped: the ids whose commit it was told succeeded.
 */
export function keepWriting(url: string, table: string): { stop(): Promise<number[]> } {
  let stopped = false;
  const committed: number[] = [];
  const loop = (async () => {
    while (!stopped) {
      const client = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: 1000,
        application_name: 'test-app',
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        while (!stopped) {
          const { rows } = await client.query<{ id: number }>(
            `INSERT INTO ${table} (amount) VALUES (1) RETURNING id`,
          );
          committed.push(rows[0]!.id);
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return committed;
    },
  };
}
