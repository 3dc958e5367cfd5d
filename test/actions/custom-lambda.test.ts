// `action: lambda NAME`: the Lambda Invoke a team's ARC-style function gets — RequestResponse, the
// event filled with the run's facts and the idempotency key — and what Lambda answers: a result,
// a function error, a missing function, a throttle asked once more. Lambda cannot run a function
// in moto without Docker, so these sequences are aws-sdk-client-mock's.

import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { renderReport } from '../../src/report.js';
import { makeEngine, postgresConfig } from '../support/engine.js';

const lambda = mockClient(LambdaClient);
afterEach(() => lambda.reset());

const alice = { user: 'U0ALICE' };
/** A payload as the SDK hands it back (a Uint8Array with helpers the action does not use). */
const encode = (value: unknown) =>
  new TextEncoder().encode(JSON.stringify(value)) as unknown as InvokeCommandOutput['Payload'];

async function engineFor(definition: string) {
  return makeEngine({
    runbooks: {
      hook: `---\ntitle: Hook\nkind: drill\nservice: payments-db\n---\n## Go\n1. Flip the flags \`action: lambda flip-flags\`\n2. Look\n`,
    },
    configYaml: postgresConfig(
      'postgres://postgres@127.0.0.1:1/postgres',
      'postgres://postgres@127.0.0.1:2/postgres',
      `actions:\n  flip-flags:\n${definition}`,
    ),
  });
}

describe('action: lambda NAME', () => {
  it('invokes the function with the run in its event and checks what it returns; its log tail goes to the report', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      ExecutedVersion: '7',
      Payload: encode({ flags: { writes: 'us-west-2' } }),
      LogResult: Buffer.from('START RequestId: 1\nflags flipped\nEND RequestId: 1\n').toString(
        'base64',
      ),
    });
    const t = await engineFor(
      `    function: arn:aws:lambda:us-west-2:123456789012:function:flip-flags\n    region: us-west-2\n    qualifier: live\n    payload: { region: us-west-2, reason: "DR {{run.kind}} of {{service}}" }\n    expect_json: { path: flags.writes, equals: us-west-2 }\n    approval: none\n`,
    );
    const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'hook' });
    await t.engine.idle();
    const view = await t.engine.getRun(runId);
    expect(view.steps[0]!.state).toBe('done');
    expect(view.steps[0]!.summary).toMatch(
      /^arn:aws:lambda:us-west-2:123456789012:function:flip-flags:live returned in \d+ ms \(version 7\) with flags\.writes = "us-west-2"$/,
    );
    const sent = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({
      FunctionName: 'arn:aws:lambda:us-west-2:123456789012:function:flip-flags',
      Qualifier: 'live',
      InvocationType: 'RequestResponse',
      LogType: 'Tail',
    });
    expect(JSON.parse(Buffer.from(sent.Payload as Uint8Array).toString())).toEqual({
      region: 'us-west-2',
      reason: 'DR drill of payments-db',
      lifeboat: {
        run: runId,
        kind: 'drill',
        runbook: 'hook',
        service: 'payments-db',
        step: 1,
        attempt: 1,
        idempotency_key: `lifeboat:${runId}:step-1`,
      },
    });
    const report = await renderReport(view, t.store, t.config, 'markdown');
    expect(report).toContain('flags flipped');
  });

  it('fails with what Lambda said: a function error, a missing function; a throttle is asked once more', async () => {
    lambda
      .on(InvokeCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }))
      .resolves({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: encode({ errorType: 'FlagError', errorMessage: 'flag service unreachable' }),
      });
    const t = await engineFor(
      '    function: flip-flags\n    region: us-west-2\n    approval: none\n',
    );
    const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'hook' });
    await t.engine.idle();
    expect((await t.engine.getRun(runId)).current?.summary).toBe(
      'lambda flip-flags (us-west-2): the function failed (Unhandled): FlagError: flag service unreachable',
    );
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(2);

    lambda.reset();
    lambda.on(InvokeCommand).rejects(
      Object.assign(
        new Error('Function not found: arn:aws:lambda:us-west-2:1:function:flip-flags'),
        {
          name: 'ResourceNotFoundException',
        },
      ),
    );
    await t.engine.retryStep({ key: 'r', actor: alice, runId, stepIndex: 0 });
    await t.engine.idle();
    expect((await t.engine.getRun(runId)).current?.summary).toBe(
      'lambda flip-flags (us-west-2): ResourceNotFoundException: Function not found: arn:aws:lambda:us-west-2:1:function:flip-flags',
    );
  });

  it('needs its region in the config, and asks two people unless told otherwise', async () => {
    await expect(engineFor('    function: flip-flags\n')).rejects.toThrow(
      'actions.flip-flags.region: is required (the AWS region of the function, like us-west-2)',
    );
    const t = await engineFor('    function: flip-flags\n    region: us-west-2\n');
    const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'hook' });
    await t.engine.idle();
    expect((await t.engine.getRun(runId)).current?.waitingOn).toBe('approval');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});
