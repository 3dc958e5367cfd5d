// docs/iam-policy.json is the policy users give lifeboat: exactly the AWS calls the code makes — one
// missing fails a failover mid-disaster with AccessDenied, one extra is a permission nobody needs.
// The calls are read from the source (every `xxxSdk().NameCommand` and SDK waiter), so a new call
// without its permission fails here, not in production.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ANCHOR_PREFIX } from '../../src/providers/types.js';
import { loadRunbookLibrary } from '../../src/runbook/library.js';
import { checkRunbookReferences } from '../../src/runbook/references.js';

const root = path.resolve(import.meta.dirname, '../..');

/** The IAM service prefix of each lazily loaded SDK (src/providers/aws/sdk.ts). */
const SERVICE: Record<string, string> = {
  rds: 'rds',
  cloudWatch: 'cloudwatch',
  route53: 'route53',
  recoveryCluster: 'route53-recovery-cluster',
  s3: 's3',
  sts: 'sts',
  iam: 'iam',
  autoScaling: 'autoscaling',
  lambda: 'lambda',
};
/** Calls every principal may make: no policy grants them (GetCallerIdentity, by the live check). */
const NEEDS_NO_PERMISSION = new Set(['sts:GetCallerIdentity']);
/** Calls whose IAM action is not named like the API call. */
const ACTION_OF: Record<string, string> = {
  's3:ListObjectsV2': 's3:ListBucket',
  's3:HeadObject': 's3:GetObject',
  's3:GetBucketReplication': 's3:GetReplicationConfiguration',
  // A multipart upload is authorized as s3:PutObject, part by part.
  's3:CreateMultipartUpload': 's3:PutObject',
  's3:UploadPart': 's3:PutObject',
  's3:CompleteMultipartUpload': 's3:PutObject',
  'rds:waitUntilDBInstanceAvailable': 'rds:DescribeDBInstances',
  'route53:waitUntilResourceRecordSetsChanged': 'route53:GetChange',
  'lambda:Invoke': 'lambda:InvokeFunction',
};
/** Actions AWS does not scope to a resource: only these may have "Resource": "*". */
const NO_RESOURCE_LEVEL = new Set([
  'cloudwatch:GetMetricData',
  'autoscaling:DescribeAutoScalingGroups',
]);

interface Statement {
  Sid: string;
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(path.join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [path.join(dir, entry.name)]
        : [],
  );
}

/** Every AWS call lifeboat's providers make, as IAM actions (local mode's s3rver setup aside). */
function actionsInCode(): Set<string> {
  const actions = new Set<string>();
  for (const file of sourceFiles(path.join(root, 'src/providers'))) {
    const text = readFileSync(file, 'utf8');
    for (const [, sdk, call] of text.matchAll(/(\w+)Sdk\(\)\s*\.(\w+?)(?:Command\b|(?=\())/g)) {
      const service = SERVICE[sdk!];
      if (!service) throw new Error(`${file}: unknown SDK ${sdk}Sdk()`);
      if (call!.endsWith('Client')) continue;
      const action = `${service}:${call}`;
      if (!NEEDS_NO_PERMISSION.has(action)) actions.add(ACTION_OF[action] ?? action);
    }
  }
  return actions;
}

const policy = JSON.parse(readFileSync(path.join(root, 'docs/iam-policy.json'), 'utf8')) as {
  Statement: Statement[];
};
const required = policy.Statement.filter((statement) => !statement.Sid.startsWith('Optional'));

describe('docs/iam-policy.json', () => {
  it('allows exactly the calls the code makes', () => {
    const inCode = actionsInCode();
    const inPolicy = new Set(policy.Statement.flatMap((statement) => statement.Action));
    const requiredActions = new Set(required.flatMap((statement) => statement.Action));
    expect([...inCode].filter((action) => !inPolicy.has(action))).toEqual([]); // missing
    expect([...requiredActions].filter((action) => !inCode.has(action))).toEqual([]); // never used
    expect(inCode).toContain('rds:PromoteReadReplica'); // the reading above found the calls
    expect(inCode.size).toBeGreaterThanOrEqual(15);
  });

  it('scopes every statement to its resources: "*" only where AWS offers nothing narrower', () => {
    for (const statement of policy.Statement) {
      const resources = [statement.Resource].flat();
      if (resources.includes('*'))
        expect(statement.Action.filter((action) => !NO_RESOURCE_LEVEL.has(action))).toEqual([]);
      for (const resource of resources) expect(resource).not.toMatch(/^arn:aws:[^:]+:\*?:\*?:\*$/);
    }
    const writes = policy.Statement.filter((statement) =>
      statement.Action.includes('s3:PutObject'),
    );
    expect(writes.map((statement) => [statement.Sid, statement.Resource])).toEqual([
      // Audit anchors only: a lifeboat that checks backups never writes them…
      ['AnchorTheAuditLog', `arn:aws:s3:::company-backups-dr/${ANCHOR_PREFIX}*`],
      // …unless it is asked to take them (self-managed PostgreSQL), under the backups' prefix.
      ['OptionalTakeBackups', 'arn:aws:s3:::company-backups-dr/postgres/*'],
    ]);
  });

  it('has KMS for encrypted backups as an optional statement, through S3 only', () => {
    const kms = policy.Statement.filter((statement) => statement.Sid.startsWith('OptionalKms'));
    expect(kms).toHaveLength(1);
    expect(kms[0]!.Action).toContain('kms:Decrypt');
    expect(kms[0]!.Condition?.StringEquals?.['kms:ViaService']).toMatch(/^s3\./);
  });
});

describe('the policy simulator, for the live check', () => {
  it('is an optional statement that lets the role ask about itself only', () => {
    const simulate = policy.Statement.filter((statement) =>
      statement.Action.includes('iam:SimulatePrincipalPolicy'),
    );
    expect(simulate.map((statement) => [statement.Sid, statement.Resource])).toEqual([
      ['OptionalSimulateOwnPolicy', 'arn:aws:iam::111122223333:role/lifeboat'],
    ]);
  });
});

describe('examples/terraform', () => {
  const terraform = readFileSync(path.join(root, 'examples/terraform/main.tf'), 'utf8');

  it("gives lifeboat's role the statements of docs/iam-policy.json, action for action (ARC's and Aurora's aside)", () => {
    // The example has RDS instances and failover routing: the Aurora Global Database statement and
    // ARC's are for those setups only.
    // (and the replicated-copy statement for a bucket that replicates: the example reads the copy).
    const elsewhere = new Set([
      'FlipTheRoutingControl',
      'AuroraGlobalDatabase',
      'OptionalReadTheReplicatedCopy',
      // (and taking backups, which lifeboat does for self-managed PostgreSQL, not for RDS)
      'OptionalTakeBackups',
      // (and RDS snapshots, for a service with snapshots: — the example checks S3 dumps)
      'OptionalRdsSnapshots',
      // (and a pilot light's application tier: the example has none)
      'OptionalPilotLightScaleTheApp',
      'OptionalPilotLightReadTheApp',
      // (and a team's own Lambda steps: the example defines none)
      'OptionalInvokeCustomActionLambdas',
    ]);
    for (const statement of policy.Statement.filter((s) => !elsewhere.has(s.Sid))) {
      const block = new RegExp(
        `Sid\\s*=\\s*"${statement.Sid}"[\\s\\S]*?Action\\s*=\\s*\\[([^\\]]*)\\]`,
      ).exec(terraform);
      expect(block, statement.Sid).not.toBeNull();
      const actions = [...block![1]!.matchAll(/"([^"]+)"/g)].map((match) => match[1]);
      expect(actions.sort(), statement.Sid).toEqual([...statement.Action].sort());
    }
  });

  it('comes with a lifeboat.example.yml that loads and names the shipped runbooks', () => {
    const config = loadConfig({
      LIFEBOAT_CONFIG: path.join(root, 'examples/terraform/lifeboat.example.yml'),
    });
    expect(config.services['payments-db']?.dns).toMatchObject({ mode: 'failover-routing' });
    const library = loadRunbookLibrary(config.runbooksDir);
    expect(library.errors).toEqual([]);
    expect(checkRunbookReferences(config, library.runbooks)).toEqual([]);
  });
});
