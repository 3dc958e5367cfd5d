// The plan, checked against the real world before it is needed (`lifeboat check config --live`,
// and the scheduled `check: plan`): the credentials work, every database, record and bucket a
// runbook will touch exists and is in the shape lifeboat expects, and the backups are not in the
// primary's region. Each read also proves its read permission. What cannot be checked without
// doing it — the permission to promote, fence or switch (AWS has no dry run for them) — is said to
// be not checked, never passed.

import type { Config, Service } from '../config.js';
import { formatAgo } from '../duration.js';
import type { RunKind } from '../run-kind.js';
import type { NodeProbe, ServiceProviders } from '../providers/types.js';
import type { CheckResult } from './backups.js';

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
  now: Date;
}

/** Every line of the live check: the credentials first, then each service in config order. */
export async function checkPlanLive(
  config: Config,
  deps: LiveDeps,
  only?: string,
): Promise<LiveLine[]> {
  const services = Object.values(config.services).filter((s) => !only || s.name === only);
  const awsRegion = services.map(awsRegionOf).find((region) => region !== null);
  const [credentials, ...perService] = await Promise.all([
    awsRegion ? checkCredentials(awsRegion, deps) : Promise.resolve([]),
    ...services.map((service) => checkService(service, deps)),
  ]);
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

async function checkCredentials(region: string, deps: LiveDeps): Promise<LiveLine[]> {
  try {
    const { arn, account } = await deps.awsIdentity(region);
    return [line(null, 'credentials', 'ok', `${arn} (account ${account})`)];
  } catch (error) {
    return [line(null, 'credentials', 'FAIL', (error as Error).message)];
  }
}

async function checkService(service: Service, deps: LiveDeps): Promise<LiveLine[]> {
  const providers = deps.providersFor(service, 'failover');
  const checks = [checkDatabase(service, providers)];
  if (providers.dns) checks.push(checkDns(service, providers));
  if (providers.backups) checks.push(checkBackupsLive(service, providers, deps.now));
  const lines = await Promise.all(checks);
  const writes = writeActions(service);
  if (writes.length)
    lines.push(
      line(
        service.name,
        'permissions',
        'not checked',
        `the permission to call ${writes.join(', ')}: AWS has no dry run for them — compare the role's policy with docs/iam-policy.json`,
      ),
    );
  return lines;
}

async function checkDatabase(service: Service, providers: ServiceProviders): Promise<LiveLine> {
  const database = providers.database!;
  const [primary, replica] = await Promise.all([
    database.probe('primary'),
    database.probe('replica'),
  ]);
  const both = `${primary.detail}; ${replica.detail}`;
  const fail = (why: string) => line(service.name, 'database', 'FAIL', `${why}: ${both}`);
  if (primary.role === 'unreachable' || replica.role === 'unreachable')
    return fail('not every database can be read');
  if (primary.role === 'writable' && replica.role === 'writable') return fail('TWO PRIMARIES');
  const writer = [primary, replica].find((probe) => probe.role === 'writable');
  if (!writer) return fail('no database accepts writes');
  const standby = writer === primary ? replica : primary;
  if (!follows(standby, writer))
    return fail(`${standby.name} does not follow ${writer.name}: a failover would have no replica`);
  if (!standby.streaming) return fail(`${standby.name} does not replicate from ${writer.name} now`);
  return line(service.name, 'database', 'ok', both);
}

function follows(standby: NodeProbe, writer: NodeProbe): boolean {
  return standby.role === 'standby' && standby.streamingFrom === writer.node;
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
  const primaryRegion =
    service.database.provider === 'postgres' ? null : service.database.primary.region;
  // The seed's mistake 2: backups in the primary's region go down with it.
  if (!backups.endpoint && primaryRegion !== null && backups.region === primaryRegion)
    return line(
      service.name,
      'backups',
      'FAIL',
      `${store.name} is in ${primaryRegion} with the primary: a regional disaster takes both — keep them in another region (S3 cross-region replication, and point backups: at the copy)`,
    );
  try {
    const objects = await store.listBackups();
    const newest = objects[0];
    return newest
      ? line(
          service.name,
          'backups',
          'ok',
          `${store.name}: ${objects.length} backups, newest ${newest.key} ${formatAgo(newest.lastModified, now)}`,
        )
      : line(service.name, 'backups', 'FAIL', `${store.name} holds no backup`);
  } catch (error) {
    return line(service.name, 'backups', 'FAIL', (error as Error).message);
  }
}

/** The calls a failover of `service` makes that change something, as IAM names them. */
function writeActions(service: Service): string[] {
  const database = service.database;
  const rds =
    database.provider === 'aurora-global'
      ? ['rds:SwitchoverGlobalCluster', 'rds:FailoverGlobalCluster']
      : database.provider === 'aws-rds'
        ? [
            'rds:PromoteReadReplica',
            ...(database.fence.mode === 'security-group' ? ['rds:ModifyDBInstance'] : []),
            ...(database.fence.mode === 'stop' ? ['rds:StopDBInstance'] : []),
          ]
        : [];
  const dns = service.dns;
  const route53 = !dns
    ? []
    : dns.mode === 'upsert' || dns.mode === 'weighted'
      ? ['route53:ChangeResourceRecordSets']
      : dns.mode === 'failover-routing'
        ? ['route53:UpdateHealthCheck']
        : ['route53-recovery-cluster:UpdateRoutingControlState'];
  return [...rds, ...route53];
}

export const usesAws = (service: Service): boolean => awsRegionOf(service) !== null;

/** A region to ask STS in, when the service uses AWS at all: the DR side's, which must work. */
function awsRegionOf(service: Service): string | null {
  if (service.database.provider !== 'postgres') return service.database.replica.region;
  if (service.dns && service.dns.mode !== 'routing-control') return 'us-east-1';
  if (service.dns) return service.dns.cluster_endpoints[0]!.region;
  if (service.backups && !service.backups.endpoint) return service.backups.region ?? 'us-east-1';
  return null;
}

function line(
  service: string | null,
  subject: LiveLine['subject'],
  state: LiveState,
  text: string,
): LiveLine {
  return { service, subject, state, text };
}
