// Everything lifeboat checks before it serves anyone: config, runbooks and their references, the
// store's schema and the audit chain. Used by `npm start`; never throws for a problem it can list.

import { loadConfig, type Config, type StoreLocation } from './config.js';
import { loadRunbookLibrary } from './runbook/library.js';
import { checkRunbookReferences, isStale } from './runbook/references.js';
import { recordAuditCheckpoint, verifyAuditLogSinceCheckpoint } from './store/audit.js';
import { StoreError } from './errors.js';
import { LATEST_SCHEMA, type Store } from './store/db.js';
import { describeStore, openStoreAt } from './store/open.js';

export interface Readiness {
  problems: string[];
  lines: string[];
}

/**
 * Loads and cross-checks config, runbooks and store; lists what is ready and what is wrong. With
 * `inspectOnly` (`lifeboat check config`) the store is read, never created or migrated.
 */
export async function checkReadiness(
  env: Record<string, string | undefined>,
  now: Date,
  options: { inspectOnly?: boolean } = {},
): Promise<Readiness> {
  const config = loadConfig(env);
  const library = loadRunbookLibrary(config.runbooksDir);
  const problems = [
    ...library.errors.map((error) => error.message),
    ...checkRunbookReferences(config, library.runbooks),
  ];
  const stale = library.runbooks.filter((runbook) => isStale(runbook, now)).map((r) => r.name);
  const lines = [
    `config      ${config.file}`,
    `services    ${Object.keys(config.services).join(', ') || 'none'}`,
    `runbooks    ${library.runbooks.length} in ${config.runbooksDir}${stale.length ? ` (not reviewed for 180 days: ${stale.join(', ')})` : ''}`,
    ...(await storeLine(config.store, problems, options.inspectOnly === true, now)),
    `approvers   ${config.approvals.approvers.length ? config.approvals.approvers.join(', ') : 'none: every approval will be refused until approvals.approvers is set'}`,
    `schedules   ${config.schedules.map((s) => s.name).join(', ') || 'none'}`,
    ...actionsLine(config),
  ];
  return { problems, lines };
}

/**
 * The team's own actions, and any environment variable they read that is not set here — not a
 * problem that stops the start (the CLI on a laptop need not hold every secret), but said now
 * rather than when a failover reaches that step.
 */
function actionsLine(config: Config): string[] {
  const actions = Object.values(config.actions);
  if (!actions.length) return [];
  const unset = Object.entries(config.actionEnv)
    .filter(([name, value]) => value === undefined && name !== 'HOME')
    .map(([name]) => name);
  return [
    `actions     ${actions.map((action) => `${action.kind} ${action.name}`).join(', ')}${unset.length ? ` (not set in this environment: ${unset.join(', ')} — the steps that read them will fail)` : ''}`,
  ];
}

async function storeLine(
  location: StoreLocation,
  problems: string[],
  inspectOnly: boolean,
  now: Date,
): Promise<string[]> {
  const where = describeStore(location);
  let store: Store | null;
  try {
    store = inspectOnly
      ? await openStoreAt(location, { inspectOnly: true })
      : await openStoreAt(location, { clock: () => now });
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    problems.push(error.message);
    return []; // nothing about it is ok: the problem says why
  }
  if (!store || store.version === 0)
    return [`store       ${where} (none yet: the first start creates it)`];
  try {
    const pending = LATEST_SCHEMA - store.version;
    if (pending < 0) {
      problems.push(
        `${where} was written by a newer lifeboat (schema version ${store.version}): upgrade lifeboat, or point \`store:\` at another store`,
      );
      return [`store       ${where} (schema ${store.version}: newer than this lifeboat)`];
    }
    if (pending > 0)
      return [
        `store       ${where} (schema ${store.version}; the next start applies ${pending} migration${pending === 1 ? '' : 's'}, then checks the audit chain)`,
      ];
    // From the last whole-chain verify on: start-up does not grow with the log.
    const audit = await verifyAuditLogSinceCheckpoint(store);
    if (!audit.ok) {
      problems.push(`audit log broken at event #${audit.brokenAt}: ${audit.reason}`);
      return [`store       ${where} (schema ${store.version}, audit log BROKEN)`];
    }
    // What was verified, not the head now: another instance may have appended since.
    if (!inspectOnly)
      await recordAuditCheckpoint(store, { seq: audit.count, hash: audit.headHash }, now);
    const checked =
      audit.from === 0 ? 'all checked' : `checked from #${audit.from}, verified before`;
    return [
      `store       ${where} (schema ${store.version}, ${audit.count} audit events, ${checked})`,
    ];
  } finally {
    await store.close();
  }
}
