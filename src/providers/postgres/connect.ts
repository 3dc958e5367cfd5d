// One short-lived connection per question, with timeouts: in a disaster the primary may hang
// rather than refuse, and a DR tool must never wait forever on it.

import pg from 'pg';
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

export async function withClient<T>(
  url: string,
  resource: string,
  use: (client: pg.Client) => Promise<T>,
  options: ConnectOptions = {},
): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    statement_timeout: options.statementTimeoutMs ?? 120_000,
    application_name: 'lifeboat',
  });
  // A connection dropped mid-query (the server was killed) must not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
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
