// The permissions a failover needs, asked of IAM's policy simulator before the disaster. moto has
// no simulator, so the SDK is mocked at the client (aws-sdk-client-mock) for its answers.

import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { checkPlanLive, type LiveDeps } from '../../src/checks/live.js';
import { parseConfig } from '../../src/config.js';
import { principalOf, simulatePermissions } from '../../src/providers/aws/simulate.js';
import type { DatabaseProvider, NodeProbe } from '../../src/providers/types.js';
import { configFor } from '../support/aws-seed.js';

const iam = mockClient(IAMClient);
afterEach(() => iam.reset());

const config = parseConfig(configFor('Z0ORDERS'), '/tmp/lifeboat.yml', {});

const probe = (node: 'primary' | 'replica'): NodeProbe => ({
  node,
  name: node,
  role: node === 'primary' ? 'writable' : 'standby',
  streaming: node === 'replica',
  streamingFrom: node === 'replica' ? 'primary' : null,
  walLsn: null,
  detail: `${node} as expected`,
});

function deps(simulate: LiveDeps['simulate']): LiveDeps {
  return {
    providersFor: () => ({
      database: {
        probe: (node: 'primary' | 'replica') => Promise.resolve(probe(node)),
      } as unknown as DatabaseProvider,
      dns: {
        name: 'Route 53',
        describeSwitch: () => '',
        switchTo: () => Promise.reject(new Error('not here')),
        pointsAt: () => Promise.reject(new Error('not here')),
        check: () => Promise.resolve('db.example.com points at the primary'),
        writeAsks: (partition) =>
          Promise.resolve([
            {
              action: 'route53:ChangeResourceRecordSets',
              resource: `arn:${partition}:route53:::hostedzone/Z0ORDERS`,
            },
          ]),
      },
      backups: null,
    }),
    awsIdentity: () =>
      Promise.resolve({
        arn: 'arn:aws:sts::111122223333:assumed-role/lifeboat/i-0abc',
        account: '111122223333',
      }),
    simulate,
    now: new Date('2026-11-24T12:00:00Z'),
  };
}

describe('permissions, through IAM policy simulation', () => {
  it('names the principal behind a session: an assumed role as its role, a user as itself', () => {
    expect(principalOf('arn:aws:sts::111122223333:assumed-role/lifeboat/i-0abc')).toBe(
      'arn:aws:iam::111122223333:role/lifeboat',
    );
    expect(principalOf('arn:aws-us-gov:sts::111122223333:assumed-role/lifeboat/s')).toBe(
      'arn:aws-us-gov:iam::111122223333:role/lifeboat',
    );
    expect(principalOf('arn:aws:iam::111122223333:user/alice')).toBe(
      'arn:aws:iam::111122223333:user/alice',
    );
    expect(principalOf('arn:aws:sts::111122223333:federated-user/bob')).toBeNull();
  });

  it('asks the simulator for each call on its own resource, and reads its decision', async () => {
    iam
      .on(SimulatePrincipalPolicyCommand, { ActionNames: ['rds:PromoteReadReplica'] })
      .resolves({
        EvaluationResults: [{ EvalActionName: 'rds:PromoteReadReplica', EvalDecision: 'allowed' }],
      })
      .on(SimulatePrincipalPolicyCommand, { ActionNames: ['rds:StopDBInstance'] })
      .resolves({
        EvaluationResults: [{ EvalActionName: 'rds:StopDBInstance', EvalDecision: 'implicitDeny' }],
      });
    const decisions = await simulatePermissions('arn:aws:iam::111122223333:role/lifeboat', [
      {
        action: 'rds:PromoteReadReplica',
        resource: 'arn:aws:rds:us-west-2:111122223333:db:production-dr',
      },
      {
        action: 'rds:StopDBInstance',
        resource: 'arn:aws:rds:us-east-1:111122223333:db:production-primary',
      },
    ]);
    expect(decisions.map((each) => each.decision)).toEqual(['allowed', 'implicitDeny']);
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)[0]!.args[0].input).toEqual({
      PolicySourceArn: 'arn:aws:iam::111122223333:role/lifeboat',
      ActionNames: ['rds:PromoteReadReplica'],
      ResourceArns: ['arn:aws:rds:us-west-2:111122223333:db:production-dr'],
    });
  });

  it('fails the plan on a call the role may not make, naming it and its resource', async () => {
    const lines = await checkPlanLive(
      config,
      deps((_principal, asks) =>
        Promise.resolve(
          asks.map((ask) => ({
            ...ask,
            decision: ask.action === 'rds:PromoteReadReplica' ? 'implicitDeny' : 'allowed',
          })),
        ),
      ),
    );
    expect(lines.find((line) => line.subject === 'permissions')).toEqual({
      service: 'orders-db',
      subject: 'permissions',
      state: 'FAIL',
      text: 'arn:aws:iam::111122223333:role/lifeboat may not rds:PromoteReadReplica on arn:aws:rds:us-west-2:111122223333:db:production-dr (implicitDeny): a failover would stop there',
    });
  });

  it('passes when every call is allowed, and lists them', async () => {
    const lines = await checkPlanLive(
      config,
      deps((_principal, asks) =>
        Promise.resolve(asks.map((ask) => ({ ...ask, decision: 'allowed' }))),
      ),
    );
    expect(lines.find((line) => line.subject === 'permissions')).toMatchObject({
      state: 'ok',
      text: 'arn:aws:iam::111122223333:role/lifeboat may rds:StopDBInstance, rds:PromoteReadReplica, route53:ChangeResourceRecordSets (IAM policy simulator)',
    });
  });

  it('says not checked, and why, when the simulator may not be asked', async () => {
    const lines = await checkPlanLive(
      config,
      deps(() =>
        Promise.reject(
          new Error('AccessDenied: not authorized to perform iam:SimulatePrincipalPolicy'),
        ),
      ),
    );
    expect(lines.find((line) => line.subject === 'permissions')).toMatchObject({
      state: 'not checked',
      text: expect.stringContaining(
        'allow iam:SimulatePrincipalPolicy on arn:aws:iam::111122223333:role/lifeboat for this check',
      ),
    });
  });
});
