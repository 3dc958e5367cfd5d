// Runs the CLI in-process and captures what a user would see on the terminal.

import { runCli } from '../../src/cli.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` as the OS account `as` (default alice; cli.users in the test configs maps alice,
 * bob and carol to U0ALICE, U0BOB and U0CAROL).
 */
export async function cli(
  argv: string[],
  env: Record<string, string | undefined> = {},
  clock: () => Date = () => new Date('2026-11-24T12:00:00Z'),
  as: string | { uid: number; username: string } = 'alice',
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    io: {
      out: (text) => (stdout += text.endsWith('\n') ? text : `${text}\n`),
      err: (text) => (stderr += text.endsWith('\n') ? text : `${text}\n`),
    },
    env,
    clock,
    identity: typeof as === 'string' ? { uid: 1000, username: as } : as,
  });
  return { code, stdout, stderr };
}
