// A new PostgreSQL server is made on a port picked free seconds before it starts (initdb runs in
// between), and any process may take a free port meanwhile: the server moves to another one rather
// than fail a start, a restore test or a test run. A server whose port is known keeps it.

import { chmodSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  freePort,
  makePostgresDir,
  startStandaloneServer,
  stopServer,
} from '../../src/providers/postgres/servers.js';
import { holdPort } from '../support/ports.js';
import { sql } from '../support/pg-pair.js';

describe('a new PostgreSQL server whose picked port was taken', () => {
  it('starts on another free port and says which; started again, it keeps that port', async () => {
    const root = makePostgresDir('lifeboat-ports-');
    chmodSync(root, 0o755);
    const picked = await freePort();
    const squatter = await holdPort(picked);
    let server: Awaited<ReturnType<typeof startStandaloneServer>> | null = null;
    try {
      server = await startStandaloneServer(root, 'moved', picked);
      expect(server.port).not.toBe(picked);
      expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
      expect(await sql(server.url, 'SELECT 1 AS answered')).toEqual([{ answered: 1 }]);
      const conf = readFileSync(path.join(root, 'moved', 'postgresql.conf'), 'utf8');
      expect(conf).toContain(`# port ${picked} was taken\nport = ${server.port}\n`);

      // Made before, started again: its port is known now and stays, taken or not.
      await stopServer(server);
      const again = await startStandaloneServer(root, 'moved', server.port);
      expect(again.port).toBe(server.port);
      expect(await sql(again.url, 'SELECT 2 AS answered')).toEqual([{ answered: 2 }]);
    } finally {
      if (server) await stopServer(server, 'immediate');
      await new Promise((resolve) => squatter.close(resolve));
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
