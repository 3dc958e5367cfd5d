// moto_server (the AWS API emulator) on a free loopback port, for tests that speak the real AWS
// wire protocols: installed by .ci/install-moto into .ci/moto/ (by the first test that needs it,
// when `npm test` runs on a machine where .ci/run has not), started through moto-server.py (RDS's
// promotion as RDS does it), stopped after.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/providers/postgres/servers.js';
import { waitFor } from './pg-pair.js';

const root = path.resolve(import.meta.dirname, '../..');
const python = path.join(root, '.ci/moto/bin/python');

export interface Moto {
  url: string;
  stop(): Promise<void>;
}

/**
 * `promotingReads`: how many DescribeDBInstances answers see a promoted replica still `modifying`
 * and naming its source, as RDS does for minutes (moto promotes at once).
 */
export async function startMoto(options: { promotingReads?: number } = {}): Promise<Moto> {
  if (!existsSync(python)) {
    const install = spawnSync('bash', [path.join(root, '.ci/install-moto')], { encoding: 'utf8' });
    if (install.status !== 0)
      throw new Error(`could not install moto (bash .ci/install-moto): ${install.stderr}`);
  }
  const port = await freePort();
  const child = spawn(
    python,
    [path.join(import.meta.dirname, 'moto-server.py'), '-H', '127.0.0.1', '-p', String(port)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        LIFEBOAT_MOTO_PROMOTING_READS: String(options.promotingReads ?? 0),
      },
    },
  );
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${output}`);
    return (await fetch(`${url}/moto-api/`).catch(() => null))?.ok === true;
  }, 'moto_server to answer');
  return {
    url,
    stop: async () => {
      child.kill();
      await exited;
    },
  };
}
