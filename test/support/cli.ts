// Runs the CLI in-process and captures what a user would see on the terminal.

import { runCli } from '../../src/cli.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(
  argv: string[],
  env: Record<string, string | undefined> = {},
  clock: () => Date = () => new Date('2026-11-24T12:00:00Z'),
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
  });
  return { code, stdout, stderr };
}
