// The plan, checked against the real world before it is needed (`lifeboat check config --live`,
// and the scheduled `check: plan`): the credentials work, every database, record and bucket a
// runbook will touch exists and is in the shape lifeboat expects, and the backups are not in the
// primary's region. Each read also proves its read permission. What cannot be checked without
// doing it — the permission to promote, fence or switch (AWS has no dry run for them) — is said to
// be not checked, never passed.

import type { Config, Service } from '../config.js';
import { formatAgo } from '../duration.js';
import type { RunKind } from '../run-kind.js';
import type { PermissionAsk, ServiceProviders } from '../providers/types.js';
import { awsCallerIdentity } from '../providers/aws/identity.js';
import { principalOf, simulatePermissions } from '../providers/aws/simulate.js';
import type { CheckResult } from './backups.js';
import { classifyNodes } from '../actions/db/classify-nodes.js';
import { assessNewestBackup, primaryRegionOf } from '../actions/backup/verify.js';
import { awsRegionOf, usesAws } from './aws-region.js';

export type LiveState = 'ok' | 'FAIL' | 'not checked';

export interface LiveLine {
  service: string | null;
  subject: 'credentials' | 'database' | 'dns' | 'backups' | 'permissions';
  state: LiveState;
  text: string;
}

export interface LiveDeps {
  providersFor: (service: Service, kind: RunKind) => ServiceProviders;
  /** Whose AWS credentials these are (STS GetCallerIdentity in `region`). */
  awsIdentity: (region: string) => Promise<{ arn: string; account: string }>;
  /** IAM's policy simulator: may `principal` make each call on its resource? */
  simulate: (
    principal: string,
    asks: PermissionAsk[],
  ) => Promise<Array<PermissionAsk & { decision: string }>>;
  now: Date;
}

/** The live check as it runs for real: STS for the identity, IAM's simulator for permissions. */
export function awsLiveDeps(providersFor: LiveDeps['providersFor'], now: Date): LiveDeps {
  return {
    providersFor,
    awsIdentity: (region) => awsCallerIdentity(region),
    simulate: (principal, asks) => simulatePermissions(principal, asks),
    now,
  };
}

interface Identity {
  arn: string;
  account: string;
  partition: string;
}

/** Every line of the live check: the credentials first, then each service in config order. */
export async function checkPlanLive(
  config: Config,
  deps: LiveDeps,
  only?: string,
): Promise<LiveLine[]> {
  const services = Object.values(config.services).filter((s) => !only || s.name === only);
  const awsRegion = services.map(awsRegionOf).find((region) => region !== null);
  let identity: Identity | null = null;
  let credentials: LiveLine[] = [];
  if (awsRegion) {
    try {
      const { arn, account } = await deps.awsIdentity(awsRegion);
      identity = { arn, account, partition: arn.split(':')[1] ?? 'aws' };
      credentials = [line(null, 'credentials', 'ok', `${arn} (account ${account})`)];
    } catch (error) {
      credentials = [line(null, 'credentials', 'FAIL', (error as Error).message)];
    }
  }
  const perService = await Promise.all(
    services.map((service) => checkService(service, deps, identity)),
  );
  return [...credentials, ...perService.flat()];
}

/** One result per service for the scheduler's alerts: failing when any of its lines fails. */
export function planResults(lines: LiveLine[], config: Config, now: Date): CheckResult[] {
  const credentials = lines.filter((line) => line.service === null && line.state === 'FAIL');
  return Object.values(config.services).flatMap((service) => {
    const own = lines.filter((line) => line.service === service.name);
    if (own.length === 0) return [];
    const failing = [...(awsRegionOf(service) ? credentials : []), ...own].filter(
      (line) => line.state === 'FAIL',
    );
    return [
      {
        check: 'plan',
        service: service.name,
        ok: failing.length === 0,
        summary: (failing.length ? failing : own.filter((line) => line.state === 'ok'))
          .map((line) => `${line.subject}: ${line.text}`)
          .join('; '),
        state: failing.map((line) => line.subject).join(', '),
        at: now.toISOString(),
      },
    ];
  });
}

async function checkService(
  service: Service,
  deps: LiveDeps,
  identity: Identity | null,
): Promise<LiveLine[]> {
  const providers = deps.providersFor(service, 'failover');
  const checks = [checkDatabase(service, providers)];
  if (providers.dns) checks.push(checkDns(service, providers));
  if (providers.backups) checks.push(checkBackupsLive(service, providers, deps.now));
  if (usesAws(service)) checks.push(checkPermissions(service, providers, deps, identity));
  return Promise.all(checks);
}

/**
 * The calls a failover makes that change something, asked of IAM's policy simulator: AWS has no
 * dry run for them. Without the simulator (no permission to use it), not checked, and why.
 */
async function checkPermissions(
  service: Service,
  providers: ServiceProviders,
  deps: LiveDeps,
  identity: Identity | null,
): Promise<LiveLine> {
  const notChecked = (why: string) =>
    line(
      service.name,
      'permissions',
      'not checked',
      `${why} — compare the role's policy with docs/iam-policy.json`,
    );
  if (!identity) return notChecked('the credentials do not work');
  const principal = principalOf(identity.arn);
  if (!principal)
    return notChecked(`${identity.arn} is no IAM user or role the policy simulator knows`);
  let asks: PermissionAsk[];
  try {
    asks = [
      ...databaseAsks(service, identity),
      ...((await providers.dns?.writeAsks?.(identity.partition)) ?? []),
    ];
  } catch (error) {
    return notChecked(`the DNS record could not be read: ${(error as Error).message}`);
  }
  if (asks.length === 0)
    return line(service.name, 'permissions', 'ok', 'no AWS call changes anything');
  let decisions: Array<PermissionAsk & { decision: string }>;
  try {
    decisions = await deps.simulate(principal, asks);
  } catch (error) {
    return notChecked(
      `IAM's policy simulator could not be asked (${(error as Error).message}): allow iam:SimulatePrincipalPolicy on ${principal} for this check`,
    );
  }
  const denied = decisions.filter((each) => each.decision !== 'allowed');
  return denied.length
    ? line(
        service.name,
        'permissions',
        'FAIL',
        `${principal} may not ${denied.map((each) => `${each.action} on ${each.resource} (${each.decision})`).join(', ')}: a failover would stop there`,
      )
    : line(
        service.name,
        'permissions',
        'ok',
        `${principal} may ${decisions.map((each) => each.action).join(', ')} (IAM policy simulator)`,
      );
}

async function checkDatabase(service: Service, providers: ServiceProviders): Promise<LiveLine> {
  const database = providers.database!;
  if (service.strategy === 'backup-restore') {
    // No replica: the DR instance is made from a snapshot at recovery. The primary must answer.
    const primary = await database.probe('primary');
    return primary.role === 'unreachable'
      ? line(service.name, 'database', 'FAIL', `the primary cannot be read: ${primary.detail}`)
      : line(
          service.name,
          'database',
          'ok',
          `${primary.detail}; backup-restore: no replica, a recovery restores the newest snapshot`,
        );
  }
  const [primary, replica] = await Promise.all([
    database.probe('primary'),
    database.probe('replica'),
  ]);
  const both = `${primary.detail}; ${replica.detail}`;
  const fail = (why: string) => line(service.name, 'database', 'FAIL', `${why}: ${both}`);
  if (service.strategy === 'active-active')
    // Both sites take writes by design (what the lag check calls healthy, not TWO PRIMARIES).
    return primary.role === 'writable' && replica.role === 'writable'
      ? line(service.name, 'database', 'ok', `active-active: both take writes: ${both}`)
      : fail('active-active: a site does not take writes');
  if (primary.role === 'unreachable' || replica.role === 'unreachable')
    return fail('not every database can be read');
  // What /dr status and the replication check call the pair, in the same words.
  const { state, writer } = classifyNodes(primary, replica);
  if (state === 'two-primaries') return fail('TWO PRIMARIES');
  if (state === 'no-writer' || !writer) return fail('no database accepts writes');
  if (state === 'unprotected') {
    const [from, standby] = writer === 'primary' ? [primary, replica] : [replica, primary];
    return fail(
      standby.role === 'standby' && !standby.streaming
        ? `${standby.name} does not replicate from ${from.name} now`
        : `${standby.name} does not follow ${from.name}: a failover would have no replica`,
    );
  }
  return line(service.name, 'database', 'ok', both);
}

async function checkDns(service: Service, providers: ServiceProviders): Promise<LiveLine> {
  try {
    return line(service.name, 'dns', 'ok', await providers.dns!.check());
  } catch (error) {
    return line(service.name, 'dns', 'FAIL', (error as Error).message);
  }
}

async function checkBackupsLive(
  service: Service,
  providers: ServiceProviders,
  now: Date,
): Promise<LiveLine> {
  const store = providers.backups!;
  const backups = service.backups!;
  try {
    // The backup check's own judgement, where the backups live included (the seed's mistake 2:
    // in the primary's region they go down with it, unless S3 replicated them elsewhere).
    const assessment = await assessNewestBackup(
      store,
      { maxAgeSeconds: backups.maxAgeSeconds, rpoSeconds: service.rpoSeconds },
      now,
      primaryRegionOf(service),
    );
    const newest = assessment.newest;
    if (!newest) return line(service.name, 'backups', 'FAIL', `${store.name} holds no backup`);
    if (!assessment.ok)
      return line(
        service.name,
        'backups',
        'FAIL',
        `${store.name}: ${assessment.problems.join('; ')}`,
      );
    return line(
      service.name,
      'backups',
      'ok',
      `${store.name}: newest ${newest.key} ${formatAgo(newest.lastModified, now)}${assessment.placement.map((fact) => `; ${fact}`).join('')}`,
    );
  } catch (error) {
    return line(service.name, 'backups', 'FAIL', (error as Error).message);
  }
}

/** The database calls a failover of `service` makes that change something, on their ARNs. */
function databaseAsks(service: Service, identity: Identity): PermissionAsk[] {
  const database = service.database;
  const { partition, account } = identity;
  if (database.provider === 'aurora-global') {
    const resource = `arn:${partition}:rds::${account}:global-cluster:${database.global_cluster_id}`;
    return [
      { action: 'rds:SwitchoverGlobalCluster', resource },
      { action: 'rds:FailoverGlobalCluster', resource },
    ];
  }
  if (database.provider !== 'aws-rds') return [];
  const arn = (instance: { id: string; region: string }) =>
    `arn:${partition}:rds:${instance.region}:${account}:db:${instance.id}`;
  const fence =
    database.fence.mode === 'security-group'
      ? [{ action: 'rds:ModifyDBInstance', resource: arn(database.primary) }]
      : database.fence.mode === 'stop'
        ? [{ action: 'rds:StopDBInstance', resource: arn(database.primary) }]
        : [];
  return [...fence, { action: 'rds:PromoteReadReplica', resource: arn(database.replica) }];
}

function line(
  service: string | null,
  subject: LiveLine['subject'],
  state: LiveState,
  text: string,
): LiveLine {
  return { service, subject, state, text };
}
