// run NAME: a command lifeboat.yml defines, as an argument list (no shell), with the environment
// it allows and nothing else, its deadline, its output kept (the tail in the thread, more in the
// report), its exit code as the result and LIFEBOAT_IDEMPOTENCY_KEY, stable across retries and
// resumes, so the command can tell a second attempt from a first.

import { formatDuration } from '../../duration.js';
import { ProviderError } from '../../errors.js';
import {
  CommandNotStarted,
  lastLines,
  processesWithEnv,
  runCommand,
  showCommand,
  type CommandResult,
} from '../../providers/process/run-command.js';
import { fillTemplate } from '../../template.js';
import type { CommandAction } from '../../config.js';
import type { Action, ActionContext, RunStanding } from '../types.js';
import {
  standingOf,
  definedOrNull,
  definitionOf,
  unbound,
  envValue,
  idempotencyKey,
  templateValues,
} from './bound.js';

const FALLBACK_PATH = '/usr/local/bin:/usr/bin:/bin';

function argvOf(
  context: ActionContext,
  argv: string[],
  standing: RunStanding | null = null,
): string[] {
  const values = templateValues(context, standing);
  return argv.map((arg) => fillTemplate(arg, values));
}

function environment(context: ActionContext, definition: CommandAction): Record<string, string> {
  const who = `run ${definition.name}`;
  const env: Record<string, string> = {
    PATH: context.custom.env.PATH ?? FALLBACK_PATH,
    ...(context.custom.env.HOME ? { HOME: context.custom.env.HOME } : {}),
  };
  for (const name of definition.env) env[name] = envValue(context, name, who);
  return {
    ...env,
    LIFEBOAT_IDEMPOTENCY_KEY: idempotencyKey(context),
    LIFEBOAT_RUN_ID: context.run.id,
    LIFEBOAT_RUN_KIND: context.run.kind,
    LIFEBOAT_SERVICE: context.service?.name ?? '',
    LIFEBOAT_STEP: String(context.step.index + 1),
    LIFEBOAT_ATTEMPT: String(context.attempt),
  };
}

/** Runs argv for `definition`; a program that cannot start is the step's failure, said plainly. */
async function execute(
  context: ActionContext,
  definition: CommandAction,
  argv: string[],
): Promise<CommandResult> {
  try {
    return await runCommand(argv, {
      env: environment(context, definition),
      cwd: definition.cwd ?? undefined,
      timeoutMs: definition.timeoutSeconds * 1000,
    });
  } catch (error) {
    if (error instanceof CommandNotStarted)
      throw new ProviderError(`run ${definition.name}`, `could not start: ${error.message}`, true);
    throw error;
  }
}

/** "exited 3", "killed by SIGKILL", "stopped after its 5m timeout". */
function ending(result: CommandResult, definition: CommandAction): string {
  if (result.timedOut)
    return `stopped after its ${formatDuration(definition.timeoutSeconds)} timeout (its process group was sent TERM, then KILL)`;
  if (result.exitCode !== null) return `exited ${result.exitCode}`;
  return `was killed by ${result.signal ?? 'a signal'}`;
}

function outputDetails(result: CommandResult): Record<string, unknown> {
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    ms: result.ms,
    stdout: result.stdout.text,
    stderr: result.stderr.text,
    droppedBytes: { stdout: result.stdout.droppedBytes, stderr: result.stderr.droppedBytes },
  };
}

function failure(what: string, result: CommandResult, definition: CommandAction): ProviderError {
  const said = lastLines(result.stderr.text || result.stdout.text, 5);
  return new ProviderError(
    `run ${definition.name}`,
    `${what} ${ending(result, definition)} after ${(result.ms / 1000).toFixed(1)} s${said ? `:\n${said}` : ' and printed nothing'}`,
    false,
    { details: { output: outputDetails(result) } },
  );
}

/**
 * An earlier attempt's command still running — lifeboat died while it ran, or a retry came while
 * it went on — is never joined by a second copy: the step fails until it has ended. Where the
 * processes cannot be looked through (no /proc), the retry runs and says it was not checked.
 */
export function refuseBesideEarlierAttempt(
  context: ActionContext,
  definition: Pick<CommandAction, 'name'>,
  proc = '/proc',
): string | null {
  if (context.attempt === 1) return null;
  const running = processesWithEnv('LIFEBOAT_IDEMPOTENCY_KEY', idempotencyKey(context), proc);
  if (running === null)
    return `not checked whether an earlier attempt still runs: ${proc} cannot be read here (the command has LIFEBOAT_IDEMPOTENCY_KEY to tell a retry itself)`;
  const [first] = running;
  if (!first) return null;
  throw new ProviderError(
    `run ${definition.name}`,
    `an earlier attempt of this step is still running (pid ${first.pid}: ${first.command.slice(0, 200)}${running.length > 1 ? `, and ${running.length - 1} more` : ''}): lifeboat does not start a second copy beside it — wait for it to end, or stop its process group (kill -TERM -${first.group}), then retry the step`,
    false,
  );
}

export const runAction: Action = {
  name: 'run',
  plan(context) {
    const definition = definedOrNull(context, 'run');
    if (!definition) return unbound(context);
    const allowed = ['PATH', 'HOME', ...definition.env].join(', ');
    const verify = definition.verify
      ? ` Then check it with \`${showCommand(argvOf(context, definition.verify))}\`.`
      : ' No verify command is defined: its exit code is the only check.';
    return `Run \`${showCommand(argvOf(context, definition.command))}\`${definition.cwd ? ` in ${definition.cwd}` : ''} (timeout ${formatDuration(definition.timeoutSeconds)}; environment: ${allowed} and LIFEBOAT_IDEMPOTENCY_KEY=${idempotencyKey(context)}).${verify}${definition.description ? ` ${definition.description}` : ''}`;
  },
  prepare(context) {
    // Committed before the command starts: a resumed run hands the same key to the next attempt.
    return { idempotencyKey: idempotencyKey(context) };
  },
  async run(context) {
    const definition = definitionOf(context, 'run');
    const argv = argvOf(context, definition.command, await standingOf(context));
    const unchecked = refuseBesideEarlierAttempt(context, definition);
    const result = await execute(context, definition, argv);
    if (result.exitCode !== 0) throw failure(`\`${showCommand(argv)}\``, result, definition);
    const said = lastLines(result.stdout.text, 1);
    return {
      summary: `\`${showCommand(argv)}\` exited 0 in ${(result.ms / 1000).toFixed(1)} s${said ? `: ${said}` : ''}${unchecked ? ` — ${unchecked}` : ''}`,
      details: {
        command: argv,
        output: outputDetails(result),
        ...(unchecked ? { earlierAttempt: unchecked } : {}),
      },
    };
  },
  async verify(context) {
    const definition = definitionOf(context, 'run');
    if (!definition.verify) return null;
    const argv = argvOf(context, definition.verify, await standingOf(context));
    const result = await execute(context, definition, argv);
    const said = lastLines(result.stderr.text || result.stdout.text, 3);
    return {
      ok: result.exitCode === 0,
      summary: `\`${showCommand(argv)}\` ${ending(result, definition)}${said ? `: ${said}` : ''}`,
    };
  },
};
