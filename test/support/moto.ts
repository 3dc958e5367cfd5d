// moto_server (the AWS API emulator) on a loopback port of the system's choosing, for tests that speak the real AWS
// wire protocols: installed by .ci/install-moto into .ci/moto/ (by the first test that needs it,
// when `npm test` runs on a machine where .ci/run has not), started through moto-server.py (RDS's
// promotion as RDS does it), stopped after.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
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
  // Port 0: moto_server listens where the system puts it and says where. A port picked free here
  // first could be taken before moto binds it, and moto would fail, or another server answer.
  const child = spawn(
    python,
    [path.join(import.meta.dirname, 'moto-server.py'), '-H', '127.0.0.1', '-p', '0'],
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
  let url = '';
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${output}`);
    url ||= /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
    return url !== '' && (await fetch(`${url}/moto-api/`).catch(() => null))?.ok === true;
  }, 'moto_server to answer');
  return {
    url,
    stop: async () => {
      child.kill();
      await exited;
    },
  };
}
