// `npm start` in local mode, as a newcomer meets its errors: one line saying what to do, exit 1,
// nothing left behind.

import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/postgres-pair.js';
import { nodeTsArgs } from '../support/node-ts.js';

const run = promisify(execFile);

async function start(env: Record<string, string>) {
  const result = await run(process.execPath, nodeTsArgs('src/main.ts'), {
    env: { PATH: process.env.PATH, ...env },
    timeout: 60_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  return result;
}

describe('npm start in local mode, when it cannot start', () => {
  it('names the missing PostgreSQL binaries and how to install them', async () => {
    const result = await start({ LIFEBOAT_PG_BIN: '/nowhere/bin', PORT: String(await freePort()) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'lifeboat: not starting: LIFEBOAT_PG_BIN: no PostgreSQL 15 binaries in /nowhere/bin: install them ("sudo apt-get install postgresql-15" on Debian/Ubuntu), or point LIFEBOAT_PG_BIN at the folder holding pg_ctl',
    );
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace for a setup mistake
  });

  it('names a console port that is taken', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const result = await start({ PORT: String(port) });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `lifeboat: not starting: PORT: ${port} is taken: stop what uses it, or start with PORT set to a free port`,
      );
    } finally {
      busy.close();
    }
  });
});
