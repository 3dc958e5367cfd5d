// `npm start` in local mode, as a newcomer meets its errors: one line saying what to do, exit 1,
// nothing left behind.

import { execFile, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resetLocalEnvironment } from '../../src/local/environment.js';
import { assertNotRunning } from '../../src/local/running.js';
import { freePort } from '../../src/providers/postgres/servers.js';
import { nodeTsArgs } from '../support/node-ts.js';
import { makeTempDir } from '../support/tmp.js';

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

describe('local mode already running from this checkout', () => {
  it('refuses a second start and a reset, naming the process and the console, and never advises a reset', async () => {
    const dir = makeTempDir();
    // The marker a running local mode writes; the test runner's parent process is alive.
    writeFileSync(
      path.join(dir, 'running.json'),
      JSON.stringify({ pid: process.ppid, url: 'http://127.0.0.1:3000' }),
    );
    expect(() => assertNotRunning(dir, 'start another')).toThrow(
      `local mode is running from this checkout (process ${process.ppid}, console at http://127.0.0.1:3000), so lifeboat will not start another: use that one, or stop it first (Ctrl-C in its terminal, or kill ${process.ppid}). Do not run "lifeboat local reset" while it runs: that wipes its databases.`,
    );
    await expect(resetLocalEnvironment(dir)).rejects.toThrow('so lifeboat will not wipe its data');
    expect(existsSync(path.join(dir, 'running.json'))).toBe(true);

    // A marker left by a process that died (kill -9) does not block anything.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(
      path.join(dir, 'running.json'),
      JSON.stringify({ pid: Number(dead.stdout.toString()), url: 'http://127.0.0.1:3000' }),
    );
    expect(() => assertNotRunning(dir, 'start another')).not.toThrow();
  });
});
