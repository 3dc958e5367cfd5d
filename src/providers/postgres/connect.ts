// Connections to the databases of a failover, with timeouts: in a disaster the primary may hang
// rather than refuse, and a DR tool must never wait forever on it. A small pool per database keeps
// a connection for a couple of seconds, so a gate check, a promotion and a write check in a row
// do not each pay for a new connection; an idle pool lets the process exit.

import type pg from 'pg';
import { ProviderError } from '../../errors.js';

export interface ConnectOptions {
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
}

/** "postgres 127.0.0.1:5433" — how messages name a database. */
export function describeUrl(role: string, url: string): string {
  try {
    const parsed = new URL(url);
    return `${role} ${parsed.hostname}:${parsed.port || '5432'}`;
  } catch {
    return role;
  }
}

/**
 * pg loads at the first connection, not with every CLI command (~50 ms); imported, not required,
 * so that the bundled CLI takes it from its own chunk, as the PostgreSQL store does.
 */
let pgModule: typeof pg | undefined;
async function pgLib(): Promise<typeof pg> {
  return (pgModule ??= (await import('pg')).default);
}

const pools = new Map<string, pg.Pool>();

/**
 * statement_timeout is the server's to enforce: a server that stops answering mid-question (frozen,
 * its host cut off) never does. The client gives up this long after the server should have.
 */
const CLIENT_GRACE_MS = 1000;

function poolFor(lib: typeof pg, url: string, options: ConnectOptions): pg.Pool {
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000;
  const statementTimeoutMs = options.statementTimeoutMs ?? 120_000;
  const key = `${url} ${connectTimeoutMs} ${statementTimeoutMs}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new lib.Pool({
      connectionString: url,
      connectionTimeoutMillis: connectTimeoutMs,
      statement_timeout: statementTimeoutMs,
      query_timeout: statementTimeoutMs + CLIENT_GRACE_MS,
      application_name: 'lifeboat',
      max: 2,
      idleTimeoutMillis: 2000,
      allowExitOnIdle: true,
    });
    // An idle connection dropped by the server (it was killed) must not crash the process.
    pool.on('error', () => undefined);
    pools.set(key, pool);
  }
  return pool;
}

export async function withClient<T>(
  url: string,
  resource: string,
  use: (client: pg.PoolClient) => Promise<T>,
  options: ConnectOptions = {},
): Promise<T> {
  const lib = await pgLib();
  let client: pg.PoolClient;
  try {
    client = await poolFor(lib, url, options).connect();
  } catch (error) {
    throw new ProviderError(resource, `cannot connect: ${(error as Error).message}`, false, {
      cause: error,
    });
  }
  // A connection dropped mid-question (the server was killed) must not crash the process.
  const ignore = () => undefined;
  client.on('error', ignore);
  let broken = false;
  try {
    return await use(client);
  } catch (error) {
    broken = true; // never hand a connection that failed mid-question to the next one
    if (error instanceof ProviderError) throw error;
    throw new ProviderError(resource, (error as Error).message, false, { cause: error });
  } finally {
    client.off('error', ignore);
    client.release(broken);
  }
}

/**
 * A connection of its own, outside the pool, closed after `use`: a new session is what a client
 * connecting now would get (after a fence, the pooled ones may predate the setting).
 */
export async function withFreshClient<T>(
  url: string,
  resource: string,
  use: (client: pg.Client) => Promise<T>,
  options: ConnectOptions = {},
): Promise<T> {
  const statementTimeoutMs = options.statementTimeoutMs ?? 10_000;
  const client = new (await pgLib()).Client({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + CLIENT_GRACE_MS,
    application_name: 'lifeboat',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new ProviderError(resource, `cannot connect: ${(error as Error).message}`, false, {
      cause: error,
    });
  }
  try {
    return await use(client);
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw new ProviderError(resource, (error as Error).message, false, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** "16/B374D848" -> bytes from the start of WAL. */
export function lsnToBigInt(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high ?? '0'}`) << 32n) + BigInt(`0x${low ?? '0'}`);
}
