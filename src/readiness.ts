// Everything lifeboat checks before it serves anyone: config, runbooks and their references, the
// store's schema and the audit chain. Used by `npm start`; never throws for a problem it can list.

import { loadConfig } from './config.js';
import { loadRunbookLibrary } from './runbook/library.js';
import { checkRunbookReferences, isStale } from './runbook/references.js';
import { verifyAuditLog } from './store/audit.js';
import { openStore } from './store/db.js';

export interface Readiness {
  problems: string[];
  lines: string[];
}

/** Loads and cross-checks config, runbooks and store; lists what is ready and what is wrong. */
export function checkReadiness(env: Record<string, string | undefined>, now: Date): Readiness {
  const config = loadConfig(env);
  const library = loadRunbookLibrary(config.runbooksDir);
  const problems = [
    ...library.errors.map((error) => error.message),
    ...checkRunbookReferences(config, library.runbooks),
  ];
  const store = openStore(config.storePath);
  try {
    const audit = verifyAuditLog(store.db);
    if (!audit.ok) problems.push(`audit log broken at event #${audit.brokenAt}: ${audit.reason}`);
    const stale = library.runbooks.filter((runbook) => isStale(runbook, now)).map((r) => r.name);
    const lines = [
      `config      ${config.file}`,
      `services    ${Object.keys(config.services).join(', ') || 'none'}`,
      `runbooks    ${library.runbooks.length} in ${config.runbooksDir}${stale.length ? ` (not reviewed for 180 days: ${stale.join(', ')})` : ''}`,
      `store       ${store.file} (schema ${store.version}, ${audit.count} audit events)`,
      `approvers   ${config.approvals.approvers.length ? config.approvals.approvers.join(', ') : 'none: every approval will be refused until approvals.approvers is set'}`,
      `schedules   ${config.schedules.map((s) => s.name).join(', ') || 'none'}`,
    ];
    return { problems, lines };
  } finally {
    store.close();
  }
}
