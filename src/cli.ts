#!/usr/bin/env node
// The `lifeboat` command: runbooks, history, audit — and the break-glass path when Slack is down.
// Exit codes: 0 ok, 1 a user mistake (one line saying what to fix), 2 a bug (logged with its stack).

import { Command, CommanderError } from 'commander';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enableCliCompileCache } from './compile-cache.js';
import { GateRefused, isLifeboatError } from './errors.js';
import { processIo, type Io } from './cli/io.js';
import type { RunCliOptions } from './cli/run.js';
import { currentOsIdentity, type OsIdentity } from './people.js';
import { VERSION } from './version.js';

// Each command loads only the modules it uses, when it runs: `lifeboat --help` or `run status`
// does not load the AWS SDK, and nothing loads local mode's S3 stand-in but `local reset`.
const runbooksCli = () => import('./cli/runbooks.js');
const checkCli = () => import('./cli/check.js');
const runCommands = () => import('./cli/run.js');
const keysCli = () => import('./cli/keys.js');
const storeCli = () => import('./cli/store-commands.js');
const localEnvironment = () => import('./local/environment.js');

type Env = Record<string, string | undefined>;

export interface CliOptions {
  io?: Io;
  env?: Env;
  clock?: () => Date;
  /** The OS account running us (tests pass one; the real one otherwise). */
  identity?: OsIdentity;
}

/** Runs the CLI on `argv` (without `node` and the script) and resolves to the exit code. */
export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  const io = options.io ?? processIo;
  let env = options.env ?? process.env;
  const clock = options.clock ?? (() => new Date());
  const identity = options.identity ?? currentOsIdentity();
  env = withLocalConfig(argv, env, io);
  let exitCode = 0;
  const program = buildProgram({ io, env, clock, identity, setExit: (code) => (exitCode = code) });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
    if (isLifeboatError(error)) {
      // A refusal names people by ID ("U0MALLORY is not an approver"): say who they are here.
      const message =
        error instanceof GateRefused ? (await peopleNamed(env))(error.message) : error.message;
      io.err(`lifeboat: ${message}`);
      return 1;
    }
    const { createLogger } = await import('./log.js');
    createLogger().error({ err: error, argv }, 'internal error');
    io.err(
      `lifeboat: internal error: ${(error as Error).message} — this is a bug; the log above has the details`,
    );
    return 2;
  }
}

/** "alice (U0ALICE) may not …": people named from cli.users, when the config can be read. */
async function peopleNamed(env: Env): Promise<(text: string) => string> {
  const [{ loadConfigCached }, { cliPeopleNamed }] = await Promise.all([
    import('./config/cache.js'),
    import('./people.js'),
  ]);
  try {
    return cliPeopleNamed((await loadConfigCached(env)).cliUsers);
  } catch {
    return (text) => text;
  }
}

/**
 * After `npm start` in local mode, the CLI's commands work from the checkout without setting
 * LIFEBOAT_CONFIG: with no ./lifeboat.yml and local mode's .lifeboat/lifeboat.yml present, that
 * one is used, and the CLI says so on stderr.
 */
function withLocalConfig(argv: readonly string[], env: Env, io: Io): Env {
  if (env.LIFEBOAT_CONFIG || ['local', 'keygen', 'help'].includes(argv[0] ?? '')) return env;
  if (argv.some((arg) => arg === '--help' || arg === '-h' || arg === '--version')) return env;
  if (existsSync(path.resolve('lifeboat.yml'))) return env;
  const local = path.resolve('.lifeboat', 'lifeboat.yml');
  if (!existsSync(local)) return env;
  io.err(
    `lifeboat: using local mode's config ${path.relative(process.cwd(), local)} (there is no ./lifeboat.yml)`,
  );
  return { ...env, LIFEBOAT_CONFIG: local };
}

/** What every command's action needs: where to write, the environment, the clock, who runs it. */
interface CliContext {
  io: Io;
  env: Env;
  clock: () => Date;
  identity: OsIdentity;
  setExit: (code: number) => void;
}

const DIR_OPTION = [
  '--dir <dir>',
  'runbooks folder (default: runbooks_dir from lifeboat.yml, else ./runbooks)',
] as const;

function buildProgram(context: CliContext): Command {
  const { io } = context;
  const program = new Command('lifeboat')
    .description(
      'Disaster recovery runbooks, checks and failover — the command line beside the Slack app.',
    )
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text) })
    .exitOverride();
  addRunbookCommands(program, context);
  addStoreCommands(program, context);
  addRunCommands(program, context);
  addKeyCommands(program, context);
  addCheckCommands(program, context);
  addBackupCommands(program, context);
  addLocalCommands(program, context);
  return program;
}

/** `lifeboat runbooks list|check|show`. */
function addRunbookCommands(program: Command, { io, env, clock, setExit }: CliContext): void {
  const runbooks = program
    .command('runbooks')
    .description('list, lint and show the markdown runbooks')
    .exitOverride();
  runbooks
    .command('list')
    .description('list the runbooks in the runbooks folder')
    .option('--json', 'print JSON')
    .option(...DIR_OPTION)
    .action(async (opts: { json?: boolean; dir?: string }) =>
      setExit(await (await runbooksCli()).listRunbooks(opts, io, env, clock())),
    );
  runbooks
    .command('check')
    .description('lint every runbook in the folder and the files given; exit 1 on any problem')
    .argument('[files...]', 'more runbook files to check')
    .option(...DIR_OPTION)
    .action(async (files: string[], opts: { dir?: string }) =>
      setExit(await (await runbooksCli()).checkRunbooks(files, opts, io, env)),
    );
  runbooks
    .command('show')
    .description('show one runbook: its phases, budgets, steps, actions and approvals')
    .argument('<file>', 'a runbook file, or the name of one in the runbooks folder')
    .option('--json', 'print JSON: {title, kind, phases: [{title, budget_minutes, steps}]}')
    .option(...DIR_OPTION)
    .action(async (file: string, opts: { json?: boolean; dir?: string }) =>
      setExit(await (await runbooksCli()).showRunbook(file, opts, io, env)),
    );
}

/** What the store remembers: `history`, `report RUN`, `store backup|restore`, `audit verify`. */
function addStoreCommands(program: Command, { io, env, clock, setExit }: CliContext): void {
  program
    .command('history')
    .description('recent runs, newest first, with their achieved RTO')
    .option(
      '--json',
      'print JSON: [{id, runbook, service, kind, status, started_at, finished_at, rto_seconds}]',
    )
    .option('--limit <n>', 'how many runs (default 20)')
    .action(async (opts: { json?: boolean; limit?: string }) =>
      setExit(await (await storeCli()).showHistory(opts, io, env, clock)),
    );

  program
    .command('report')
    .argument('<run>', 'a run id (lifeboat history lists them)')
    .description(
      "a run's report: RTO and RPO against objectives, phases, steps, timeline, approvals, notes",
    )
    .option(
      '--markdown',
      'Markdown with UTC times, for a postmortem document (default: text with local times)',
    )
    .option(
      '--html',
      'one self-contained HTML page (the report, the phase timeline, the RTO chart): > postmortem.html',
    )
    .action(async (id: string, opts: { markdown?: boolean; html?: boolean }) =>
      setExit(await (await storeCli()).showReport(id, opts, io, env, clock)),
    );

  const store = program
    .command('store')
    .description("a copy of the whole store (the team's memory: runs, approvals, the audit log)")
    .exitOverride();
  store
    .command('backup')
    .argument('<file>', 'a new file for the copy')
    .description(
      'snapshot the store while lifeboat runs, and prove the copy (schema, audit chain) before naming it',
    )
    .action(async (file: string) => setExit(await (await storeCli()).backupStoreTo(file, io, env)));
  store
    .command('migrate')
    .requiredOption('--to <url>', 'the PostgreSQL database: postgres://user@host:5432/database')
    .option('--schema <name>', 'the schema to keep the tables in (created if missing)')
    .description(
      'copy the SQLite store, whole, into an empty PostgreSQL database (the audit chain verified on both sides); stop lifeboat first',
    )
    .action(async (opts: { to: string; schema?: string }) =>
      setExit(await (await storeCli()).migrateStoreTo(opts, io, env)),
    );
  store
    .command('restore')
    .argument('<file>', 'a copy made by lifeboat store backup')
    .description(
      'prove the copy, keep the current store aside (never deleted) and put the copy in its place; stop lifeboat first',
    )
    .action(async (file: string) =>
      setExit(await (await storeCli()).restoreStoreFrom(file, io, env, clock)),
    );

  const audit = program.command('audit').description('the hash-chained audit log').exitOverride();
  audit
    .command('verify')
    .description(
      'walk the chain; exit 1 naming the first event edited, deleted or reordered; print the head hash',
    )
    .option('--since <hash>', 'also prove that a head hash published earlier is still in the chain')
    .action(async (opts: { since?: string }) =>
      setExit(await (await storeCli()).verifyAudit(opts, io, env, clock)),
    );
}

/** `lifeboat run …`: the break-glass path. */
function addRunCommands(program: Command, { io, env, clock, identity, setExit }: CliContext): void {
  const run = program
    .command('run')
    .description(
      'break-glass: drive runs from the terminal when Slack is down (same engine, same gates)',
    )
    .exitOverride();
  const common = (command: Command) =>
    command
      .option(
        '--as <user>',
        'your Slack user ID; may only repeat what cli.users maps this OS account to',
      )
      .option('--key <key>', 'idempotency key (default: a fresh one)');
  common(
    run
      .command('start')
      .argument('<runbook>', 'runbook name')
      .description('start a run of a runbook'),
  )
    .option('--service <service>', "the service to act on (default: the runbook's)")
    .option(
      '--kind <kind>',
      "failover | failback | switchover | drill | tabletop | restore-test (default: the runbook's)",
    )
    .option('--impact-at <time>', 'when the outage began (ISO time); the RTO clock starts there')
    .action(async (name: string, opts: RunCliOptions) =>
      setExit(
        await (await runCommands()).runCommand('start', [name], opts, io, env, identity, clock),
      ),
    );
  run
    .command('resume')
    .argument('<run>', 'a run id')
    .description(
      'walk a run on whose walker died (a crashed CLI or bot): says what runs next, then runs it',
    )
    .action(async (id: string, opts: RunCliOptions) =>
      setExit(
        await (await runCommands()).runCommand('resume', [id], opts, io, env, identity, clock),
      ),
    );
  run
    .command('status')
    .argument('[run]', 'a run id (default: list the runs in flight)')
    .description('where a run stands and what it waits for; reads only, runs nothing')
    .action(async (id: string | undefined, opts: RunCliOptions) =>
      setExit(
        await (
          await runCommands()
        ).runCommand('status', id ? [id] : [], opts, io, env, identity, clock),
      ),
    );
  common(
    run
      .command('step')
      .argument('<run>')
      .argument('<step>', 'step number, from 1')
      .argument('<what>', 'done | skip | retry | note'),
  )
    .description('complete, skip (--reason), retry or annotate (--note) the current step')
    .option('--reason <text>', 'why (required to skip)')
    .option('--note <text>', 'a note for the report')
    .action(async (id: string, step: string, what: string, opts: RunCliOptions) =>
      setExit(
        await (
          await runCommands()
        ).runCommand('step', [id, step, what], opts, io, env, identity, clock),
      ),
    );
  for (const verb of ['approve', 'deny'] as const) {
    common(
      run
        .command(verb)
        .argument('<run>')
        .argument('[approval]', 'approval id (default: the pending one)'),
    )
      .description(`${verb} the run's pending approval request`)
      .option('--reason <text>', 'why')
      .option(
        '--token <token>',
        'approve for a person elsewhere: the token they made with `lifeboat approve-token`',
      )
      .action(async (id: string, approval: string | undefined, opts: RunCliOptions) =>
        setExit(
          await (
            await runCommands()
          ).runCommand(verb, approval ? [id, approval] : [id], opts, io, env, identity, clock),
        ),
      );
  }
  common(run.command('override').argument('<run>').argument('<step>', 'step number, from 1'))
    .description(
      'ask to promote although lag is over the RPO, or the old primary still accepts writes (--reason; a second person approves)',
    )
    .option('--reason <text>', 'why (required)')
    .action(async (id: string, step: string, opts: RunCliOptions) =>
      setExit(
        await (
          await runCommands()
        ).runCommand('override', [id, step], opts, io, env, identity, clock),
      ),
    );
  common(run.command('renew').argument('<run>'))
    .description('ask for approval again after a request expired')
    .action(async (id: string, opts: RunCliOptions) =>
      setExit(
        await (await runCommands()).runCommand('renew', [id], opts, io, env, identity, clock),
      ),
    );
  common(run.command('abort').argument('<run>'))
    .description(
      'stop a run (--reason); --unfence also lifts the fence it put up, before any promotion',
    )
    .option('--reason <text>', 'why')
    .option('--unfence', 'the old primary takes writes again (refused once a promotion started)')
    .option('--force', 'abort even while an infrastructure action runs (permissions.force_abort)')
    .action(async (id: string, opts: RunCliOptions) =>
      setExit(
        await (await runCommands()).runCommand('abort', [id], opts, io, env, identity, clock),
      ),
    );
}

/** Signed approvals from a person elsewhere: `keygen`, `approve-token`. */
function addKeyCommands(program: Command, { io, setExit }: CliContext): void {
  program
    .command('keygen')
    .description('make an Ed25519 key for signed approvals; prints the line for approvals.keys')
    .requiredOption('--user <user>', 'your Slack user ID')
    .requiredOption('--out <file>', 'where to keep the private key (written 0600)')
    .action(async (opts: { user: string; out: string }) =>
      setExit((await keysCli()).makeKey(opts, io)),
    );
  program
    .command('approve-token')
    .argument('<challenge>', 'the challenge `lifeboat run status` shows for the pending request')
    .description(
      'sign a pending request on your own machine; give the token to the break-glass host',
    )
    .requiredOption('--key <file>', 'your key file from `lifeboat keygen`')
    .action(async (challenge: string, opts: { key: string }) =>
      setExit((await keysCli()).makeToken(challenge, opts, io)),
    );
}

/** `status` and `check config|backups|restore|lag`. */
function addCheckCommands(program: Command, { io, env, clock, setExit }: CliContext): void {
  program
    .command('status')
    .argument('[service]', 'one service (default: all)')
    .description(
      'readiness: lag against the RPO, last backup check, runs in flight, DR tests due or OVERDUE',
    )
    .action(async (service: string | undefined) =>
      setExit(await (await checkCli()).showStatus(service, io, env, clock)),
    );

  program
    .command('check')
    .argument('<what>', 'config | backups | restore | lag')
    .option('--service <service>', 'only this service')
    .option(
      '--live',
      'config: also check the plan against the real world — credentials, every database, record and bucket a runbook touches',
    )
    .option('--pick <which>', 'restore: newest (default) or random')
    .option(
      '--set <label>',
      'restore, for a service whose backups pgBackRest keeps: this member of the chain (a label from pgbackrest info), not the newest',
    )
    .option(
      '--within <duration>',
      'restore with --pick random: from backups younger than this, like 30d',
    )
    .description(
      'run a check now: config (the startup checks, nothing served) or a service check as the scheduler runs it; exit 1 when any fails',
    )
    .action(
      async (
        what: string,
        opts: {
          service?: string;
          live?: boolean;
          pick?: 'newest' | 'random';
          within?: string;
          set?: string;
        },
      ) => setExit(await (await checkCli()).runCheck(what, opts, io, env, clock)),
    );
}

/** `backup take`. */
function addBackupCommands(
  program: Command,
  { io, env, clock, identity, setExit }: CliContext,
): void {
  const backup = program
    .command('backup')
    .description("the services' own backups (lifeboat's store has `store backup`)")
    .exitOverride();
  backup
    .command('take')
    .argument('[service]', 'one service (default: every service lifeboat can dump)')
    .description(
      "pg_dump the database that takes writes into the service's backups bucket, read it back, write its manifest (SHA-256, rows per table), then apply retention; exit 1 when any fails",
    )
    .action(async (service: string | undefined) =>
      setExit(await (await checkCli()).takeBackupsNow(service, io, env, clock, identity)),
    );
}

/** `local reset`. */
function addLocalCommands(program: Command, { io, setExit }: CliContext): void {
  const local = program
    .command('local')
    .description("local mode's PostgreSQL pair, S3 stand-in and config under .lifeboat/")
    .exitOverride();
  local
    .command('reset')
    .description('wipe .lifeboat/ (stop local mode first); the next local start builds it afresh')
    .option('--dir <dir>', 'the local mode folder', '.lifeboat')
    .action(async (opts: { dir: string }) => {
      await (await localEnvironment()).resetLocalEnvironment(opts.dir);
      io.out(`removed ${opts.dir}`);
      setExit(0);
    });
}

function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** The `lifeboat` command on this process's arguments, setting its exit code. */
export async function main(): Promise<void> {
  // `lifeboat history | head`: the reader is gone, so stop writing, quietly — not a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
  process.exitCode = await runCli(process.argv.slice(2));
}

// `node dist/src/cli.js`, unbundled (the installed `lifeboat` is dist/cli/lifeboat.js: cli-bin.ts).
if (isMain()) {
  // The modules a command loads are compiled once and kept, in a folder only this user can write.
  enableCliCompileCache();
  await main();
}
