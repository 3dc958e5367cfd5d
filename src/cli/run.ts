// `lifeboat run …`: the break-glass path when Slack itself is down. The same engine and gates as
// Slack. The person is the OS account running it (cli.users maps it to a Slack user ID; --as may
// only repeat that), recorded beside the Slack ID in the audit log; a second person elsewhere
// approves with a signed token.

import { randomUUID } from 'node:crypto';
import { loadConfigCached } from '../config/cache.js';
import { cliPeopleNamed, cliPersonName } from '../people.js';
import { formatDuration } from '../duration.js';
import { GateRefused, UsageError } from '../errors.js';
import { challengeFor, verifyToken } from './approval-token.js';
import { cliActor, currentOsIdentity, type OsIdentity } from './identity.js';
import { createEngine } from '../engine/create.js';
import { createCliLogger } from './logger.js';
import { formatLocal } from '../time.js';
import type { Actor, CommandResult, Engine } from '../engine/engine.js';
import type { RunView } from '../engine/run-view.js';
import { RUN_KINDS, type RunKind } from '../runbook/model.js';
import { listRunsInFlight } from '../store/runs.js';
import { orphanedRuns } from '../engine/executor-lease.js';
import { formatTable, type Io } from './io.js';
import { RUN_COLUMNS, runCells } from './runs-table.js';

type Env = Record<string, string | undefined>;

export interface RunCliOptions {
  as?: string;
  token?: string;
  key?: string;
  service?: string;
  kind?: string;
  impactAt?: string;
  reason?: string;
  note?: string;
  unfence?: boolean;
  force?: boolean;
}

/** Opens the engine, gives one command, lets the run go as far as it can, prints where it stands. */
export async function runCommand(
  verb:
    'start' | 'status' | 'resume' | 'step' | 'approve' | 'deny' | 'abort' | 'override' | 'renew',
  args: string[],
  options: RunCliOptions,
  io: Io,
  env: Env,
  identity: OsIdentity = currentOsIdentity(),
  clock: () => Date = () => new Date(),
): Promise<number> {
  const config = await loadConfigCached(env);
  const log = createCliLogger(io, env.LOG_LEVEL);
  const engine = await createEngine(config, { clock, logger: log.logger });
  // Slack may be down: the people paging names still hear of the run from here.
  const pager = config.paging
    ? new (await import('../paging/pager.js')).Pager({ config, clock, logger: log.logger })
    : null;
  pager?.watch(engine);
  const actorOf = (opts: RunCliOptions) => cliActor(config, identity, env, opts.as);
  // A promotion or a DNS change can take minutes: say what it waits for as it goes.
  engine.on((event) => {
    if (event.type === 'action.progress') io.out(`  … step ${event.stepIndex + 1}: ${event.text}`);
  });
  try {
    // Nothing is resumed behind the person's back: `status` only reads; a command walks the run
    // it acts on; `resume` walks the one run it names, after saying what runs next.
    const key = options.key ?? `cli:${randomUUID()}`;
    let runId = args[0] ?? '';
    if (verb === 'start') {
      const kind = options.kind as RunKind | undefined;
      if (kind && !RUN_KINDS.includes(kind))
        throw new UsageError(`--kind must be one of ${RUN_KINDS.join(', ')}`);
      const impactAt = options.impactAt ? parseTime(options.impactAt) : undefined;
      const result = await engine.startRun({
        key,
        actor: actorOf(options),
        runbook: required(args[0], 'RUNBOOK'),
        service: options.service ?? null,
        kind,
        impactAt,
      });
      runId = result.runId;
      io.out(result.message);
    } else if (verb === 'status') {
      if (!args[0]) return await printInFlight(engine, io, config.cliUsers);
      io.out(describeRun(await engine.getRun(runId), config.cliUsers));
      const orphaned = (await orphanedRuns(engine.store, clock())).includes(runId);
      if (orphaned)
        io.out(
          `no process walks this run, and its next step is lifeboat's to run: "lifeboat run resume ${runId}" runs it`,
        );
      return 0;
    } else if (verb === 'resume') {
      actorOf(options); // an account cli.users knows, as for every command that acts
      const view = await engine.getRun(required(args[0], 'RUN'));
      const next = view.current;
      io.out(
        next
          ? `resuming run ${runId}: next, step ${next.index + 1}. ${next.text}${next.action ? ` (${next.action}${next.state === 'executing' ? ', interrupted: it runs again as its resume allows' : ''})` : ''}${next.waitingOn ? `, waiting on ${next.waitingOn}` : ''}`
          : `resuming run ${runId}: no step left to run`,
      );
      await engine.resumeRun(runId);
    } else {
      const result =
        verb === 'approve' && options.token
          ? await approveWithToken(engine, args, options.token, key, actorOf)
          : await give(engine, verb, args, options, key, actorOf(options));
      runId = result.runId;
      io.out(result.message);
    }
    await engine.idle();
    io.out(describeRun(await engine.getRun(required(runId, 'RUN')), config.cliUsers));
    return log.errors() === 0 ? 0 : 1;
  } finally {
    await engine.idle();
    await pager?.idle();
    await engine.store.close();
  }
}

async function give(
  engine: Engine,
  verb: string,
  args: string[],
  options: RunCliOptions,
  key: string,
  actor: Actor,
): Promise<CommandResult> {
  const runId = required(args[0], 'RUN');
  if (verb === 'abort')
    return engine.abortRun({
      key,
      actor,
      runId,
      reason: options.reason ?? '',
      unfence: options.unfence === true,
      force: options.force === true,
    });
  if (verb === 'renew') return engine.renewApproval({ key, actor, runId });
  if (verb === 'approve' || verb === 'deny') {
    const view = await engine.getRun(runId);
    const pending = view.steps
      .flatMap((step) => step.approvals)
      .filter((approval) => approval.status === 'pending');
    const approval = args[1] ? pending.find((a) => a.id === args[1]) : pending[0];
    if (!approval)
      throw new UsageError(
        `run ${runId} has no pending approval request${args[1] ? ` "${args[1]}"` : ''}`,
      );
    return engine.decideApproval({
      key,
      actor,
      approvalId: approval.id,
      decision: verb,
      reason: options.reason,
    });
  }
  const stepIndex = Number(required(args[1], 'STEP')) - 1;
  if (verb === 'override')
    return engine.overrideGate({ key, actor, runId, stepIndex, reason: options.reason ?? '' });
  const what = required(args[2], 'done|skip|retry|note');
  if (what === 'done')
    return engine.completeStep({ key, actor, runId, stepIndex, note: options.note });
  if (what === 'skip')
    return engine.skipStep({ key, actor, runId, stepIndex, reason: options.reason ?? '' });
  if (what === 'retry') return engine.retryStep({ key, actor, runId, stepIndex });
  if (what === 'note')
    return engine.addNote({ key, actor, runId, stepIndex, text: options.note ?? '' });
  throw new UsageError(`unknown step command "${what}": use done, skip, retry or note`);
}

/**
 * `run approve RUN --token T`: the approval of a person elsewhere, proved by their signature on
 * the pending request's challenge. A refused token is audited like any refusal.
 */
async function approveWithToken(
  engine: Engine,
  args: string[],
  token: string,
  key: string,
  actorOf: (opts: RunCliOptions) => Actor,
): Promise<CommandResult> {
  const runId = required(args[0], 'RUN');
  let pasted: Actor;
  try {
    pasted = actorOf({});
  } catch {
    pasted = { user: 'cli', via: 'cli:unmapped-account' }; // the token is the identity here
  }
  try {
    const { user, challenge } = verifyToken(token, engine.config, engine.clock());
    const pending = (await engine.getRun(runId)).steps
      .flatMap((step) => step.approvals)
      .find((approval) => approval.id === challenge.approval && approval.status === 'pending');
    const binds =
      pending !== undefined &&
      challenge.run === runId &&
      challenge.step === pending.stepIndex &&
      challenge.attempt === pending.attempt &&
      challenge.plan === (pending.planHash ?? '') &&
      challenge.expires === pending.expiresAt;
    if (!binds)
      throw new GateRefused(
        'token',
        `the token is for request ${challenge.approval} of run ${challenge.run} (step ${challenge.step + 1}, attempt ${challenge.attempt}), which is not the pending request of run ${runId} as it stands now: sign the current challenge from \`lifeboat run status ${runId}\``,
      );
    return await engine.decideApproval({
      key,
      actor: { user, via: `token:${user}` },
      approvalId: pending.id,
      decision: 'approve',
    });
  } catch (error) {
    if (error instanceof GateRefused && error.gate === 'token')
      await engine.recordRefusal(key, 'approval.token', runId, pasted, error);
    throw error;
  }
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new UsageError(`missing ${name}: see lifeboat run --help`);
  return value;
}

function parseTime(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new UsageError(`--impact-at "${text}" is not a time like 2026-11-24T03:12:00Z`);
  return date;
}

async function printInFlight(
  engine: Engine,
  io: Io,
  cliUsers: Record<string, string>,
): Promise<number> {
  const runs = await listRunsInFlight(engine.store);
  const personName = cliPersonName(cliUsers);
  io.out(
    runs.length === 0
      ? 'no runs in flight'
      : formatTable([RUN_COLUMNS, ...runs.map((run) => runCells(run, personName))]),
  );
  return 0;
}

/**
 * The run as the person at the terminal needs it: where it stands and what it waits for, people
 * named by their account in cli.users beside the ID, times in this machine's zone.
 */
export function describeRun(view: RunView, cliUsers: Record<string, string> = {}): string {
  const { run } = view;
  const named = cliPeopleNamed(cliUsers);
  const clock =
    run.rtoSeconds !== null
      ? `RTO ${formatDuration(run.rtoSeconds)}`
      : `elapsed ${formatDuration(view.elapsedSeconds)}`;
  const lines = [
    `run ${run.id}: ${run.kind}, runbook ${run.runbook}${run.service ? ` for ${run.service}` : ''}, ${run.status}${run.outcome ? ` (${named(run.outcome)})` : ''}, ${clock}`,
  ];
  for (const phase of view.phases) {
    const budget =
      phase.budgetMinutes === null
        ? ''
        : ` ${formatDuration(phase.elapsedSeconds ?? 0)} of ${phase.budgetMinutes} min${phase.isOverBudget ? ' OVER BUDGET' : ''}`;
    lines.push(`  ${phase.title}${budget}`);
    for (const step of view.steps.filter((s) => s.phaseIndex === phase.index)) {
      const marker = {
        done: '[x]',
        skipped: '[-]',
        aborted: '[!]',
        executing: '[~]',
        active: '[>]',
        pending: '[ ]',
      }[step.state];
      const waiting =
        step.waitingOn && step.state === 'active' ? ` — waiting on ${step.waitingOn}` : '';
      lines.push(
        `    ${marker} ${step.index + 1}. ${step.text}${step.action ? ` (${step.action})` : ''}${waiting}${step.summary && step.state !== 'pending' ? `: ${step.summary}` : ''}`,
      );
      for (const approval of step.approvals.filter((a) => a.status === 'pending')) {
        lines.push(
          `          approval ${approval.id} (${approval.gate}) requested by ${named(approval.requestedBy)}, expires ${formatLocal(new Date(approval.expiresAt))}`,
          `          approver elsewhere: lifeboat approve-token ${challengeFor(approval)} --key KEYFILE`,
        );
      }
    }
  }
  return lines.join('\n');
}
