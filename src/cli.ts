#!/usr/bin/env node
// The `lifeboat` command: runbooks, history, audit — and the break-glass path when Slack is down.
// Exit codes: 0 ok, 1 a user mistake (one line saying what to fix), 2 a bug (logged with its stack).

import { Command, CommanderError } from 'commander';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isLifeboatError } from './errors.js';
import { processIo, type Io } from './cli/io.js';
import { checkRunbooks, listRunbooks, showRunbook } from './cli/runbooks.js';
import { showHistory, verifyAudit } from './cli/store-commands.js';
import { createLogger } from './log.js';
import { VERSION } from './version.js';

type Env = Record<string, string | undefined>;

export interface CliOptions {
  io?: Io;
  env?: Env;
  clock?: () => Date;
}

/** Runs the CLI on `argv` (without `node` and the script) and resolves to the exit code. */
export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  const io = options.io ?? processIo;
  const env = options.env ?? process.env;
  const clock = options.clock ?? (() => new Date());
  let exitCode = 0;
  const program = buildProgram(io, env, clock, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
    if (isLifeboatError(error)) {
      io.err(`lifeboat: ${error.message}`);
      return 1;
    }
    createLogger().error({ err: error, argv }, 'internal error');
    io.err(
      `lifeboat: internal error: ${(error as Error).message} — this is a bug; the log above has the details`,
    );
    return 2;
  }
}

function buildProgram(
  io: Io,
  env: Env,
  clock: () => Date,
  setExit: (code: number) => void,
): Command {
  const program = new Command('lifeboat')
    .description(
      'Disaster recovery runbooks, checks and failover — the command line beside the Slack app.',
    )
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text) })
    .exitOverride();

  const runbooks = program
    .command('runbooks')
    .description('list, lint and show the markdown runbooks')
    .exitOverride();
  runbooks
    .command('list')
    .description('list the runbooks in the runbooks folder')
    .option('--json', 'print JSON')
    .option(
      '--dir <dir>',
      'runbooks folder (default: runbooks_dir from lifeboat.yml, else ./runbooks)',
    )
    .action((opts: { json?: boolean; dir?: string }) =>
      setExit(listRunbooks(opts, io, env, clock())),
    );
  runbooks
    .command('check')
    .description('lint every runbook in the folder and the files given; exit 1 on any problem')
    .argument('[files...]', 'more runbook files to check')
    .option(
      '--dir <dir>',
      'runbooks folder (default: runbooks_dir from lifeboat.yml, else ./runbooks)',
    )
    .action((files: string[], opts: { dir?: string }) =>
      setExit(checkRunbooks(files, opts, io, env)),
    );
  runbooks
    .command('show')
    .description('show one runbook: its phases, budgets, steps, actions and approvals')
    .argument('<file>', 'a runbook file, or the name of one in the runbooks folder')
    .option('--json', 'print JSON: {title, kind, phases: [{title, budget_minutes, steps}]}')
    .option(
      '--dir <dir>',
      'runbooks folder (default: runbooks_dir from lifeboat.yml, else ./runbooks)',
    )
    .action((file: string, opts: { json?: boolean; dir?: string }) =>
      setExit(showRunbook(file, opts, io, env)),
    );

  program
    .command('history')
    .description('recent runs, newest first, with their achieved RTO')
    .option(
      '--json',
      'print JSON: [{id, runbook, service, kind, status, started_at, finished_at, rto_seconds}]',
    )
    .option('--limit <n>', 'how many runs (default 20)')
    .action(async (opts: { json?: boolean; limit?: string }) =>
      setExit(await showHistory(opts, io, env, clock)),
    );

  const audit = program.command('audit').description('the hash-chained audit log').exitOverride();
  audit
    .command('verify')
    .description('walk the chain; exit 1 naming the first event edited, deleted or reordered')
    .action(async () => setExit(await verifyAudit(io, env)));

  return program;
}

function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  process.exitCode = await runCli(process.argv.slice(2));
}
