// The backup check: for every service with backups, judge the newest backup (fresh, not shrunken,
// checksum) and store the result. Run by `/dr backups check`, `lifeboat check backups` and the
// scheduler; one service's failure (S3 unreachable, bad credentials) is that service's result.

import type { Config, Service } from '../config.js';
import { isLifeboatError } from '../errors.js';
import { assessNewestBackup, primaryRegionOf } from '../actions/backup/verify.js';
import type { ServiceProviders } from '../actions/types.js';
import type { RunKind } from '../runbook/model.js';
import { formatDuration } from '../duration.js';
import type { Sql } from '../store/db.js';
import { recordCheckResult, type CheckResult } from './results.js';
import { checkPitr } from './pitr.js';
import { checkSnapshots } from './snapshots.js';

export { latestResults, recordCheckResult, type CheckResult } from './results.js';

export async function checkBackups(
  config: Config,
  db: Sql,
  providersFor: (service: Service, kind: RunKind) => ServiceProviders,
  now: Date,
  only?: string,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const service of Object.values(config.services)) {
    if (only && service.name !== only) continue;
    const providers =
      service.backups || service.snapshots ? providersFor(service, 'restore-test') : null;
    if (providers && service.backups) {
      const result = await checkOne(service, providers, now);
      await recordCheckResult(db, 'backups', result, { state: result.state, ...result.details });
      results.push(result);
    }
    const snapshots = service.snapshots ? (providers?.snapshots ?? null) : null;
    if (snapshots) {
      const result = await checkSnapshots(service, snapshots, now);
      await recordCheckResult(db, 'snapshots', result, { state: result.state });
      results.push(result);
    }
    if (service.pitr) {
      const result = await checkPitr(service, now);
      await recordCheckResult(db, 'pitr', result, { state: result.state });
      results.push(result);
    }
  }
  return results;
}

async function checkOne(
  service: Service,
  providers: ServiceProviders,
  now: Date,
): Promise<CheckResult> {
  const at = now.toISOString();
  const result = (
    ok: boolean,
    summary: string,
    state: string,
    details?: Record<string, unknown>,
  ): CheckResult => ({
    check: 'backups',
    service: service.name,
    ok,
    summary,
    state,
    at,
    ...(details ? { details } : {}),
  });
  const store = providers.backups;
  if (!store || !service.backups) return result(false, 'no backups configured', 'unconfigured');
  try {
    const assessment = await assessNewestBackup(
      store,
      { maxAgeSeconds: service.backups.maxAgeSeconds, rpoSeconds: service.rpoSeconds },
      now,
      primaryRegionOf(service),
    );
    const newest = assessment.newest;
    // When the newest two were written: what a backup-restore recovery would lose at worst.
    const details = {
      newestAt: newest?.lastModified.toISOString() ?? null,
      previousAt: assessment.previous?.lastModified.toISOString() ?? null,
    };
    if (assessment.ok && newest) {
      return result(
        true,
        `newest ${newest.key}: ${newest.size} bytes, ${formatDuration(assessment.ageSeconds ?? 0)} old (max ${formatDuration(service.backups.maxAgeSeconds)})${assessment.placement.map((fact) => `; ${fact}`).join('')}`,
        'ok',
        details,
      );
    }
    return result(
      false,
      `${store.name}: ${assessment.problems.join('; ')}`,
      assessment.problems.map(problemKind).join(', '),
      details,
    );
  } catch (error) {
    if (!isLifeboatError(error)) throw error;
    return result(false, error.message, `error: ${error.message}`);
  }
}

function problemKind(problem: string): string {
  if (problem.includes('older than max_age')) return 'stale';
  if (problem.includes('less than half')) return 'shrunk';
  if (problem.includes('empty')) return 'empty';
  if (problem.includes('no backups')) return 'missing';
  if (problem.includes('with the primary')) return 'beside the primary';
  if (problem.includes('replicate')) return 'not replicated';
  return problem;
}
