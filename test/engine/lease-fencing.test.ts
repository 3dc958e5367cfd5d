// The fencing token of a run's walker: a walker paused past its lease (SIGSTOP, a long GC, a
// partition) is taken over by another instance, which resumes the run where the store says it
// stands; when the old walker wakes up, none of its commits land.

import { describe, expect, it } from 'vitest';
import { ACTIONS, type ActionRegistry } from '../../src/actions/registry.js';
import { STALE_AFTER_MS, refreshClaim } from '../../src/engine/executor-lease.js';
import { verifyAuditLog } from '../../src/store/audit.js';
import { makeEngine } from '../support/engine.js';
import { waitFor } from '../support/pg-pair.js';

const drill = `---
title: Drill
kind: drill
---
## Go (10 minutes)
1. Tell the channel \`action: notify\`
2. Look at the dashboards
`;
const configYaml = `approvals:
  approvers: [U0ALICE, U0BOB]
`;

/** `notify` whose first attempt hangs until released (the paused walker); later ones answer. */
function hangingNotify() {
  const attempts: string[] = [];
  let release: (summary: string) => void = () => undefined;
  const actions: ActionRegistry = {
    ...ACTIONS,
    notify: {
      name: 'notify',
      plan: () => 'post to the channel',
      run: (context) => {
        attempts.push(`attempt ${context.attempt}`);
        if (context.attempt === 1)
          return new Promise((resolve) => {
            release = (summary) => resolve({ summary, details: {} });
          });
        return Promise.resolve({ summary: 'posted by the instance that took over', details: {} });
      },
    },
  };
  return { actions, attempts, wake: (summary: string) => release(summary) };
}

describe('a walker paused past its lease', () => {
  it('is taken over, and when it wakes up commits nothing over the new holder', async () => {
    const notify = hangingNotify();
    const a = await makeEngine({
      runbooks: { drill },
      configYaml,
      actions: notify.actions,
      executorId: 'host-a:101:aaaaaa',
    });
    const { runId } = await a.engine.startRun({
      key: 's',
      actor: { user: 'U0ALICE' },
      runbook: 'drill',
    });
    await waitFor(() => notify.attempts.length === 1, 'the first attempt');
    const claim = async () =>
      await a.store.get('SELECT executor, executor_epoch AS epoch FROM runs WHERE id = ?', runId);
    expect(await claim()).toEqual({ executor: 'host-a:101:aaaaaa', epoch: 1 });

    // While A's claim is fresh, another instance leaves the run alone.
    const fresh = await makeEngine({
      runbooks: { drill },
      configYaml,
      actions: notify.actions,
      executorId: 'host-c:303:cccccc',
      sameStoreAs: a,
    });
    expect(await fresh.engine.adoptOrphans()).toEqual([]);
    await fresh.store.close();

    // A stops refreshing its claim (paused): after the lease it is stale, and B takes over.
    // (the claim is judged on the real clock: its last refresh is put one lease and a minute back)
    await a.store.run(
      'UPDATE runs SET executor_seen = ? WHERE id = ?',
      new Date(Date.now() - STALE_AFTER_MS - 60_000).toISOString(),
      runId,
    );
    const b = await makeEngine({
      runbooks: { drill },
      configYaml,
      actions: notify.actions,
      executorId: 'host-b:202:bbbbbb',
      sameStoreAs: a,
    });
    expect(await b.engine.adoptOrphans()).toEqual([runId]);
    await b.engine.idle();
    expect(notify.attempts).toEqual(['attempt 1', 'attempt 2']);
    expect((await b.engine.getRun(runId)).current).toMatchObject({
      index: 1,
      waitingOn: 'operator',
    });

    // A wakes up with its action's result: its commit is refused, the store keeps B's.
    notify.wake('posted by the paused instance');
    await a.engine.idle();
    const step = (await b.engine.getRun(runId)).steps[0]!;
    expect(step).toMatchObject({
      state: 'done',
      summary: 'posted by the instance that took over',
    });
    const done = await b.store.get(
      "SELECT count(*) AS n FROM audit_log WHERE action = 'action.done'",
    );
    expect(done).toEqual({ n: 1 });
    expect((await b.engine.getRun(runId)).current).toMatchObject({
      index: 1,
      waitingOn: 'operator',
    });
    expect(await refreshClaim(a.store, runId, new Date(), 1, 'host-a:101:aaaaaa')).toBe(false);
    expect(
      await b.store.get('SELECT executor_epoch AS epoch FROM runs WHERE id = ?', runId),
    ).toEqual({ epoch: 2 });

    // Waiting for people, the run needs no walker: nobody adopts it.
    expect(await a.engine.adoptOrphans()).toEqual([]);
    expect(await b.engine.adoptOrphans()).toEqual([]);

    // The run goes on from B (or any instance) as the store says.
    await b.engine.completeStep({ key: 'd', actor: { user: 'U0ALICE' }, runId, stepIndex: 1 });
    await b.engine.idle();
    expect((await b.engine.getRun(runId)).run.status).toBe('succeeded');
    expect((await verifyAuditLog(b.store)).ok).toBe(true);
    await a.store.close();
    await b.store.close();
  });

  it('walks on a run nobody holds whose current step waits on lifeboat, not on people', async () => {
    const manual = drill.replace('Tell the channel `action: notify`', 'Open the bridge');
    const a = await makeEngine({
      runbooks: { drill: manual },
      configYaml,
      executorId: 'host-a:1:aaaaaa',
    });
    const { runId } = await a.engine.startRun({
      key: 's',
      actor: { user: 'U0ALICE' },
      runbook: 'drill',
    });
    await a.engine.idle();
    expect(await a.engine.adoptOrphans()).toEqual([]); // waiting on the operator: nothing to walk
    // As if a process committed the step done and died before walking on to the next one.
    await a.store.run(
      "UPDATE run_steps SET state = 'done' WHERE run_id = ? AND step_index = 0",
      runId,
    );
    const b = await makeEngine({
      runbooks: { drill: manual },
      configYaml,
      executorId: 'host-b:2:bbbbbb',
      sameStoreAs: a,
    });
    expect(await b.engine.adoptOrphans()).toEqual([runId]);
    await b.engine.idle();
    expect((await b.engine.getRun(runId)).current).toMatchObject({
      index: 1,
      waitingOn: 'operator',
    });
    await a.store.close();
    await b.store.close();
  });
});
