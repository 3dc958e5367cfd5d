// A bot process for the crash test: resumes (or starts) the failover, plays the people, and logs
// every action execution. With KILL_AT it freezes at a chosen point and says BOUNDARY, so the
// parent can kill -9 it exactly there.
// Usage: node --import tsx test/support/crash-child.ts CONFIG EXEC_LOG [KILL_AT]

import { appendFileSync } from 'node:fs';
import { loadConfig } from '../../src/config.js';
import { createEngine } from '../../src/engine/create.js';
import { ACTIONS, type ActionRegistry } from '../../src/actions/registry.js';
import { listRuns } from '../../src/store/runs.js';

const [configFile, execLog, killAt] = process.argv.slice(2);
const config = loadConfig({ LIFEBOAT_CONFIG: configFile });

// Count each execution of an action's side effect (run()), as it happens.
const counted = Object.fromEntries(
  Object.entries(ACTIONS).map(([name, action]) => [
    name,
    {
      ...action,
      run: (context: Parameters<typeof action.run>[0]) => {
        appendFileSync(execLog!, `${context.step.index} ${name}\n`);
        return action.run(context);
      },
    },
  ]),
) as ActionRegistry;

const engine = await createEngine(config, { actions: counted });
// KILL_AT "N" freezes after step N's "finished" is committed; "aN" right after step N's action
// was marked started (committed) and before its side effect runs.
const [killOnAction, killStep] = killAt?.startsWith('a')
  ? [true, Number(killAt.slice(1))]
  : [false, Number(killAt)];
engine.on((event) => {
  const wanted = killOnAction ? 'action.started' : 'step.finished';
  const hit =
    killAt !== undefined &&
    (event.type === 'action.started' || event.type === 'step.finished') &&
    event.type === wanted &&
    event.stepIndex === killStep;
  if (hit) {
    process.stdout.write('BOUNDARY\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000); // frozen until killed
  }
});

await engine.resume();
if ((await listRuns(engine.store)).length === 0) {
  await engine.startRun({ key: 'crash-test-run', actor: { user: 'U0ALICE' }, runbook: 'failover' });
}
const runId = (await listRuns(engine.store))[0]!.id;
for (;;) {
  await engine.idle();
  const view = await engine.getRun(runId);
  const current = view.current;
  if (!current) break;
  if (current.waitingOn === 'operator') {
    await engine.completeStep({
      key: `done-${current.index}`,
      actor: { user: 'U0ALICE' },
      runId,
      stepIndex: current.index,
    });
  } else if (current.waitingOn === 'approval') {
    const pending = current.approvals.find((a) => a.status === 'pending')!;
    await engine.decideApproval({
      key: `approve-${pending.id}`,
      actor: { user: 'U0BOB' },
      approvalId: pending.id,
      decision: 'approve',
    });
  } else {
    throw new Error(
      `run stuck at step ${current.index + 1}: ${current.waitingOn} ${current.summary}`,
    );
  }
}
process.stdout.write(`FINISHED ${(await engine.getRun(runId)).run.status}\n`);
await engine.store.close();
