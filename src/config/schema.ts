// The shape of lifeboat.yml, as zod schemas. Key names are the file's (snake_case); config.ts turns
// the validated result into the camelCase Config the rest of lifeboat reads.

import { validate as isValidCron } from 'node-cron';
import { z } from 'zod';
import { parseDurationSeconds } from '../duration.js';
import { RUN_KINDS } from '../run-kind.js';
import { CUSTOM_ACTION_NAME, PERMISSIONS, POSTGRES_URL, SCHEMA_NAME } from './names.js';
import { STRATEGIES } from '../strategy.js';

const NOT_A_DURATION = 'is not a duration like 15m, 90s, 6h or 1d';
const duration = z
  .string({ error: NOT_A_DURATION })
  .refine((text) => parseDurationSeconds(text) !== null, { error: NOT_A_DURATION });

const slackUserOrGroup = z
  .string()
  .regex(
    /^([UWS][A-Z0-9]{2,}|\*)$/,
    'is not a Slack user ID (U0ALICE), a user group ID (S0ONCALL) or * (anyone); display names are not accepted',
  );

const slackUserId = z
  .string()
  .regex(
    /^[UW][A-Z0-9]{2,}$/,
    'is not a Slack user ID like U0ALICE (display names are not accepted)',
  );

const postgresUrl = z
  .string()
  .regex(
    /^postgres(ql)?:\/\/\S+$/,
    'is not a PostgreSQL URL like postgres://127.0.0.1:5432/postgres',
  );

const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'is not an AWS region like us-east-1');

const rdsInstance = z.strictObject({
  id: z.string().min(1, 'must name the DB instance identifier'),
  region: awsRegion,
  /** Optional: a PostgreSQL URL of the instance, so db.verify-writable can write a test row. */
  url: postgresUrl.optional(),
});

/** How lifeboat makes an RDS primary refuse writes before promoting its replica. */
const rdsFence = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({
      mode: z.literal('security-group'),
      fence_security_group_ids: z
        .array(z.string().regex(/^sg-[0-9a-f]+$/, 'is not a security group ID like sg-0123abcd'))
        .min(1, 'needs at least one security group that lets no client in'),
    }),
    z.strictObject({ mode: z.literal('stop') }),
    z.strictObject({
      mode: z.literal('none'),
      reason: z
        .string()
        .trim()
        .min(
          10,
          'must say in a sentence why this service is never fenced (it goes into every plan)',
        ),
    }),
  ],
  {
    error:
      'is not a fence lifeboat knows: security-group (with fence_security_group_ids), stop, or none (with a reason)',
  },
);

/**
 * How long a status look at one database may take before it counts as not answering (`/dr status`,
 * the lag check). Decisions — the fence gate, a promotion's own checks — wait longer regardless.
 */
const probeTimeout = duration
  .refine((text) => (parseDurationSeconds(text) ?? 0) <= 30, {
    error: 'is longer than 30s: a status would wait that long for a database that hangs',
  })
  .default('1s');

const auroraCluster = z.strictObject({
  cluster_id: z.string().min(1, 'must name the DB cluster identifier'),
  region: awsRegion,
  /** Optional: a PostgreSQL URL of the cluster's writer endpoint, for db.verify-writable. */
  url: postgresUrl.optional(),
});

const database = z.discriminatedUnion(
  'provider',
  [
    z.strictObject({
      provider: z.literal('postgres'),
      primary: postgresUrl,
      replica: postgresUrl,
      probe_timeout: probeTimeout,
    }),
    z.strictObject({
      provider: z.literal('aws-rds'),
      primary: rdsInstance,
      replica: rdsInstance,
      fence: rdsFence,
      probe_timeout: probeTimeout,
      /** Optional: the instance class of a replica rebuilt by db.rebuild-replica. */
      rebuild: z.strictObject({ instance_class: z.string().min(1).optional() }).optional(),
      /** Pilot light: the class db.scale-up gives the promoted instance for the full load. */
      scale_up: z
        .strictObject({ instance_class: z.string().min(1, 'must name the class') })
        .optional(),
    }),
    z.strictObject({
      provider: z.literal('aurora-global'),
      global_cluster_id: z
        .string()
        .min(1, 'must name the global database (global cluster) identifier'),
      primary: auroraCluster,
      replica: auroraCluster,
      probe_timeout: probeTimeout,
    }),
  ],
  { error: 'is not a database provider lifeboat knows (postgres, aws-rds, aurora-global)' },
);

const dns = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({
      provider: z.literal('route53'),
      mode: z.literal('upsert'),
      zone_id: z.string().min(1, 'must name the hosted zone'),
      record: z.string().min(1, 'must name the record, like db.example.com'),
      type: z.enum(['CNAME', 'A', 'AAAA']).default('CNAME'),
      ttl: z.number().int().min(0).max(172_800).default(60),
    }),
    z.strictObject({
      provider: z.literal('route53'),
      mode: z.literal('failover-routing'),
      zone_id: z.string().min(1, 'must name the hosted zone'),
      record: z.string().min(1, 'must name the record, like db.example.com'),
      type: z.enum(['CNAME', 'A', 'AAAA']).default('CNAME'),
    }),
    z.strictObject({
      provider: z.literal('route53'),
      mode: z.literal('weighted'),
      zone_id: z.string().min(1, 'must name the hosted zone'),
      record: z.string().min(1, 'must name the record, like db.example.com'),
      type: z.enum(['CNAME', 'A', 'AAAA']).default('CNAME'),
      weight: z.number().int().min(1).max(255).default(100),
    }),
    z.strictObject({
      provider: z.literal('route53'),
      mode: z.literal('routing-control'),
      routing_control_arn: z
        .string()
        .regex(/^arn:aws:route53-recovery-control::/, 'is not a Route 53 ARC routing control ARN'),
      cluster_endpoints: z
        .array(z.strictObject({ url: z.url(), region: awsRegion }))
        .min(1, 'needs at least one cluster endpoint (ARC gives five: list them all)'),
      record: z.string().optional(),
    }),
  ],
  {
    error: 'is not a DNS mode lifeboat knows (upsert, failover-routing, weighted, routing-control)',
  },
);

const restoreTest = z.strictObject({
  expected_tables: z.array(z.string().min(1)).default([]),
  row_tolerance: z.number().min(0).max(1).default(0.1),
});

const retention = z
  .strictObject({
    keep_last: z.number().int().min(1, 'must keep at least the newest backup').optional(),
    keep_within: duration.optional(),
  })
  .refine((policy) => policy.keep_last !== undefined || policy.keep_within !== undefined, {
    error: 'needs keep_last (a count) or keep_within (an age like 7d), or both',
  });

const backups = z.strictObject({
  provider: z.literal('s3'),
  bucket: z.string().min(1, 'must name the bucket'),
  prefix: z.string().default(''),
  region: awsRegion,
  endpoint: z.url().optional(),
  /** aws: the SDK's default chain; s3rver: s3rver's fixed key pair (local mode, tests). */
  credentials: z
    .enum(['aws', 's3rver'], { error: 'must be aws (the SDK default chain) or s3rver' })
    .default('aws'),
  max_age: duration,
  /** What a restore test checks in the restored copy. */
  restore_test: restoreTest.default({ expected_tables: [], row_tolerance: 0.1 }),
  /**
   * After lifeboat takes a backup: keep the newest keep_last and all younger than keep_within,
   * delete the rest that lifeboat took. Absent: nothing is ever deleted.
   */
  retention: retention.optional(),
});

const healthCheck = z.strictObject({
  url: z.url(),
  expect_status: z.number().int().min(100).max(599).default(200),
  timeout: duration.default('5s'),
});

const runbookRefs = z.partialRecord(z.enum(RUN_KINDS), z.string().min(1));

/** RDS snapshots as the backups of an aws-rds service: checked (and copied) in the DR region. */
const snapshots = z.strictObject({
  /** The newest snapshot in the DR region must be younger than this. */
  max_age: duration,
  /** The region copies go to: by default the replica's. */
  copy_to: awsRegion.optional(),
  /** The DR region's KMS key for copies of encrypted snapshots. */
  kms_key_id: z.string().min(1).optional(),
});

/** Pilot light: the application's Auto Scaling group in the DR region and its full-load size. */
const appScaling = z.strictObject({
  provider: z.literal('aws-autoscaling', { error: 'must be aws-autoscaling' }),
  group: z.string().min(1, 'must name the Auto Scaling group'),
  region: awsRegion,
  desired: z.number().int().min(1, 'must be at least 1 instance'),
});

/** Point-in-time recovery kept by pgBackRest: what the backup check reads from its repository. */
const pitr = z
  .strictObject({
    tool: z.enum(['pgbackrest', 'wal-g'], { error: 'must be pgbackrest or wal-g' }),
    /** pgBackRest's stanza (WAL-G has none). */
    stanza: z.string().min(1, 'must name the stanza').optional(),
    /** How to run the tool, as an argument array: ["sudo", "-u", "postgres", "pgbackrest"]. */
    command: z.array(z.string().min(1)).min(1).optional(),
    config: z.string().min(1).optional(),
    max_full_age: duration,
    max_diff_age: duration.optional(),
    max_incr_age: duration.optional(),
    max_wal_age: duration,
  })
  .refine((entry) => entry.tool !== 'pgbackrest' || entry.stanza !== undefined, {
    path: ['stanza'],
    error: 'pgbackrest needs the stanza to read',
  })
  .transform((entry) => ({ ...entry, command: entry.command ?? [entry.tool] }));

const service = z
  .strictObject({
    rto: duration,
    rpo: duration,
    /** How the service recovers (the seed's four strategies); today's failover is warm-standby. */
    strategy: z
      .enum(STRATEGIES, { error: `must be one of ${STRATEGIES.join(', ')}` })
      .default('warm-standby'),
    runbooks: runbookRefs.default({}),
    database,
    dns: dns.optional(),
    backups: backups.optional(),
    pitr: pitr.optional(),
    snapshots: snapshots.optional(),
    app_scaling: appScaling.optional(),
    health_check: healthCheck.optional(),
  })
  .refine((entry) => entry.snapshots === undefined || entry.database.provider === 'aws-rds', {
    path: ['snapshots'],
    error: 'is for aws-rds services (RDS DB snapshots)',
  })
  .refine((entry) => entry.pitr === undefined || entry.database.provider === 'postgres', {
    path: ['pitr'],
    error: 'is for self-managed PostgreSQL: RDS keeps its own point-in-time recovery',
  })
  .refine(
    (entry) =>
      entry.strategy !== 'backup-restore' ||
      entry.backups !== undefined ||
      entry.database.provider === 'aws-rds',
    {
      path: ['strategy'],
      error:
        'backup-restore recovers from backups: the service needs backups: (a bucket to restore from)',
    },
  )
  .refine(
    (entry) =>
      entry.strategy !== 'backup-restore' ||
      entry.database.provider === 'postgres' ||
      (entry.database.provider === 'aws-rds' && entry.snapshots !== undefined),
    {
      path: ['strategy'],
      error:
        'backup-restore restores pg_dump backups into self-managed PostgreSQL (database.replica is the DR server) or RDS snapshots into a new instance (aws-rds with snapshots:, database.replica the instance to create); Aurora is not restored by lifeboat',
    },
  )
  .refine(
    (entry) =>
      entry.strategy !== 'active-active' ||
      entry.dns?.mode === 'weighted' ||
      entry.dns?.mode === 'routing-control',
    {
      path: ['strategy'],
      error:
        'active-active drains the failed region instead of promoting: the service needs dns: with mode weighted (Route 53 weights) or routing-control (ARC)',
    },
  );

const schedule = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a short name like backup-check'),
    cron: z.string().refine(isValidCron, { error: 'is not a cron expression like "*/30 * * * *"' }),
    check: z
      .enum([
        'backups',
        'backup-take',
        'restore',
        'lag',
        'plan',
        'staleness',
        'audit',
        'store-backup',
      ])
      .optional(),
    remind: z.string().min(1).optional(),
    service: z.string().optional(),
    timezone: z
      .string()
      .refine(isTimeZone, { error: 'is not a time zone like UTC or Europe/Berlin' })
      .default('UTC'),
    pick: z.enum(['newest', 'random']).optional(),
    within: duration.optional(),
    /** store-backup: the folder the copies go to, and how many of them to keep. */
    to: z.string().min(1).optional(),
    keep: z.number().int().min(1).default(7),
  })
  .refine((entry) => (entry.check === undefined) !== (entry.remind === undefined), {
    error:
      'needs exactly one of check: (backups, backup-take, restore, lag, plan, staleness, audit, store-backup) or remind: RUNBOOK',
  })
  .refine((entry) => entry.check !== 'store-backup' || entry.to !== undefined, {
    error:
      'a store-backup needs to: the folder for the copies (another disk or a mount in another region)',
    path: ['to'],
  });

/** The name of the PostgreSQL schema lifeboat's tables live in: plain, never quoted by people. */
const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not an environment variable name like KUBECONFIG');

const argv = z
  .array(z.string().min(1, 'must not be empty'), {
    error:
      'must be the program and its arguments as a list, like [kubectl, rollout, restart, deploy/app]: never a shell string',
  })
  .min(1, 'must name at least the program to run');

/** A header's value: written out, or read from the environment (a secret). */
const headerValue = z.union([
  z.string(),
  z.strictObject({ env: envName, prefix: z.string().default('') }),
]);

/**
 * A team's own step, defined here and only here (a runbook can name it, never define it): a
 * command (argument list, no shell) or an HTTP request. Every key is checked against the kind in
 * config.ts, so a misplaced one is named.
 */
const customAction = z.strictObject({
  description: z.string().optional(),
  /** Changes infrastructure unless said otherwise: two people approve it. */
  approval: z.enum(['two-person', 'none']).default('two-person'),
  timeout: duration.optional(),
  // run
  command: argv.optional(),
  verify: argv.optional(),
  env: z.array(envName).default([]),
  cwd: z.string().min(1).optional(),
  // http
  url: z.url().optional(),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]+$/, 'is not a header name'), headerValue)
    .default({}),
  body: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  expect_status: z
    .union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)])
    .optional(),
  expect_json: z
    .strictObject({
      path: z
        .string()
        .regex(
          /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+|\[\d+\])*$/,
          'is not a path like status.indicator or items[0].state',
        ),
      equals: z.union([z.string(), z.number(), z.boolean(), z.null()]),
    })
    .optional(),
  retries: z.number().int().min(0).max(10).optional(),
  backoff: duration.optional(),
  // lambda
  function: z.string().min(1, 'must name the Lambda function (name or ARN)').optional(),
  region: awsRegion.optional(),
  qualifier: z.string().min(1).optional(),
  payload: z.record(z.string(), z.unknown()).optional(),
});

/** What lifeboat pages about; a target takes every one unless it lists its own. */
export const PAGE_EVENTS = [
  'run.started',
  'run.failed',
  'run.finished',
  'approval.waiting',
  'check.failing',
  'unprotected',
  'two-primaries',
] as const;

const secret = z.strictObject({ env: envName });
const pageEvents = z.array(z.enum(PAGE_EVENTS)).min(1).optional();

const pagingTarget = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('pagerduty'),
      /** The Events API v2 integration key of the PagerDuty service. */
      routing_key: secret,
      url: z.url().default('https://events.pagerduty.com/v2/enqueue'),
      events: pageEvents,
    }),
    z.strictObject({
      type: z.literal('opsgenie'),
      api_key: secret,
      /** https://api.eu.opsgenie.com for the EU instance. */
      url: z.url().default('https://api.opsgenie.com'),
      events: pageEvents,
    }),
    z.strictObject({
      type: z.literal('webhook'),
      url: z.url(),
      /** Signs each body: X-Lifeboat-Signature: sha256=HMAC(secret, timestamp.body). */
      secret,
      events: pageEvents,
    }),
  ],
  { error: 'must say type: pagerduty, opsgenie or webhook' },
);

/** GET /metrics (Prometheus text format), for a scraper that sends this bearer token. */
const metrics = z.strictObject({ bearer_token: secret });

const paging = z.strictObject({
  targets: z.record(
    z.string().regex(CUSTOM_ACTION_NAME, 'is not a plain lower-case name like oncall'),
    pagingTarget,
  ),
  /** An approval nobody has decided after this long pages (approval.waiting). */
  approval_waiting_after: duration.default('10m'),
});

/**
 * The store: the path of a SQLite file, or a PostgreSQL URL (the store shared by several
 * instances). Any other URL is refused, never taken for a path (`mysql://…` would otherwise
 * become a folder named `mysql:` beside the config). Errors show the value with any password
 * redacted.
 */
const storeText = z
  .string({
    error: 'must be the path of the SQLite store file (./lifeboat.db) or a postgres:// URL',
  })
  .min(1)
  .superRefine((text, context) => {
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(text)?.[1]?.toLowerCase();
    if (scheme === undefined) return;
    if (scheme === 'postgres' || scheme === 'postgresql') {
      if (!POSTGRES_URL.test(text))
        context.addIssue({
          code: 'custom',
          message:
            'is not a PostgreSQL URL lifeboat can use: write postgres://user@host:5432/database (several hosts: host1:5432,host2:5432)',
        });
      return;
    }
    context.addIssue({
      code: 'custom',
      message: `is a ${scheme}: URL: give the SQLite store's path (./lifeboat.db) or a postgres:// URL`,
    });
  });

const storeSetting = z.union([
  storeText,
  z.strictObject({
    url: z
      .string()
      .regex(POSTGRES_URL, 'must be a postgres:// URL, like postgres://lifeboat@db:5432/ops'),
    schema: z
      .string()
      .regex(SCHEMA_NAME, 'must be a plain lower-case name, like lifeboat')
      .optional(),
  }),
]);

export const configFileSchema = z.strictObject({
  slack: z
    .strictObject({
      channel: z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'is not a Slack channel ID like C0DROPS'),
      /** Where `action: announce` posts stakeholder updates (not the on-call channel). */
      announcements: z
        .string()
        .regex(/^[CG][A-Z0-9]{2,}$/, 'is not a Slack channel ID like C0ANNOUNCE')
        .optional(),
    })
    .optional(),
  approvals: z
    .strictObject({
      approvers: z.array(slackUserId).default([]),
      usergroup: z
        .string()
        .regex(/^S[A-Z0-9]{2,}$/, 'is not a Slack user group ID like S0ONCALL')
        .optional(),
      required: z
        .number()
        .int()
        .min(1, 'must be at least 1: the two-person rule cannot be turned off')
        .default(1),
      expires_after: duration.default('15m'),
      /** Ed25519 public keys of approvers who may approve with a signed token from elsewhere. */
      keys: z
        .record(
          slackUserId,
          z
            .string()
            .regex(
              /^ed25519:[A-Za-z0-9_-]{43}$/,
              'is not a public key as `lifeboat keygen` prints it (ed25519:…)',
            ),
        )
        .default({}),
    })
    .default({ approvers: [], required: 1, expires_after: '15m', keys: {} }),
  /** The break-glass CLI acts for the OS account that runs it: OS user name → Slack user ID. */
  cli: z
    .strictObject({
      users: z
        .record(z.string().regex(/^[a-z_][a-z0-9_.-]*$/i, 'is not an OS user name'), slackUserId)
        .default({}),
    })
    .default({ users: {} }),
  alerts: z
    .strictObject({
      /** How often an UNPROTECTED service (no replica follows its writer) is posted again. */
      unprotected_repeat: duration.default('4h'),
    })
    .default({ unprotected_repeat: '4h' }),
  /** Who may do what; every list defaults to approvals.approvers and approvals.usergroup. */
  permissions: z
    .strictObject({
      start_failover: z.array(slackUserOrGroup).optional(),
      start_exercise: z.array(slackUserOrGroup).optional(),
      steps: z.array(slackUserOrGroup).optional(),
      gated_steps: z.array(slackUserOrGroup).optional(),
      abort: z.array(slackUserOrGroup).optional(),
      force_abort: z.array(slackUserOrGroup).optional(),
    })
    .default({}),
  store: storeSetting.default('./lifeboat.db'),
  runbooks_dir: z.string().min(1).default('./runbooks'),
  services: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), service).default({}),
  schedules: z.array(schedule).default([]),
  paging: paging.optional(),
  metrics: metrics.optional(),
  actions: z
    .record(
      z.string().regex(CUSTOM_ACTION_NAME, 'is not a plain lower-case name like restart-app'),
      customAction,
    )
    .default({}),
});

export type ConfigFile = z.infer<typeof configFileSchema>;

/** Every key the file may hold, for "did you mean" on an unknown key. */
export const KNOWN_KEYS = [
  'slack',
  'channel',
  'approvals',
  'approvers',
  'usergroup',
  'required',
  'expires_after',
  'keys',
  'cli',
  'users',
  'store',
  'permissions',
  ...PERMISSIONS,
  'alerts',
  'unprotected_repeat',
  'runbooks_dir',
  'services',
  'rto',
  'rpo',
  'runbooks',
  'database',
  'provider',
  'primary',
  'replica',
  'id',
  'region',
  'cluster_id',
  'global_cluster_id',
  'dns',
  'mode',
  'zone_id',
  'record',
  'type',
  'ttl',
  'weight',
  'routing_control_arn',
  'cluster_endpoints',
  'url',
  'backups',
  'bucket',
  'prefix',
  'endpoint',
  'credentials',
  'max_age',
  'schedules',
  'name',
  'cron',
  'check',
  'remind',
  'service',
  'timezone',
  'pick',
  'within',
  'health_check',
  'fence',
  'fence_security_group_ids',
  'reason',
  'rebuild',
  'instance_class',
  'scale_up',
  'restore_test',
  'retention',
  'keep_last',
  'keep_within',
  'strategy',
  'pitr',
  'snapshots',
  'app_scaling',
  'group',
  'desired',
  'copy_to',
  'kms_key_id',
  'tool',
  'stanza',
  'command',
  'config',
  'max_full_age',
  'max_diff_age',
  'max_incr_age',
  'max_wal_age',
  'to',
  'keep',
  'expected_tables',
  'row_tolerance',
  'expect_status',
  'timeout',
  'probe_timeout',
  'actions',
  'description',
  'approval',
  'verify',
  'env',
  'cwd',
  'method',
  'headers',
  'body',
  'expect_json',
  'path',
  'equals',
  'retries',
  'backoff',
  'paging',
  'targets',
  'routing_key',
  'api_key',
  'secret',
  'events',
  'approval_waiting_after',
  'announcements',
  'metrics',
  'bearer_token',
  'function',
  'qualifier',
  'payload',
  ...RUN_KINDS,
];

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
