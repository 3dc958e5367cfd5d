// The replication-lag check: each service's lag against its RPO, stored. The scheduler alerts on
// it once per episode; `lifeboat check lag` prints it.

import type { Config, Service } from '../config.js';
import { isLifeboatError } from '../errors.js';
import { describeLag } from '../actions/db/describe-lag.js';
import type { ServiceProviders } from '../actions/types.js';
import type { RunKind } from '../runbook/model.js';
import type { Db } from '../store/db.js';
import type { CheckResult } from './backups.js';

export async function checkLag(
  config: Config,
  db: Db,
  providersFor: (service: Service, kind: RunKind) => ServiceProviders,
  now: Date,
  only?: string | null,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const service of Object.values(config.services)) {
    if (only && service.name !== only) continue;
    const database = providersFor(service, 'failover').database;
    if (!database) continue;
    let ok: boolean;
    let summary: string;
    try {
      const lag = await database.measureLag();
      ok =
        !lag.targetIsReplica || (lag.lagSeconds !== null && lag.lagSeconds <= service.rpoSeconds);
      summary = describeLag(lag, service.rpoSeconds);
    } catch (error) {
      if (!isLifeboatError(error)) throw error;
      ok = false;
      summary = error.message;
    }
    // The state compared by alerts is "over or not", never the changing numbers.
    const result = {
      check: 'lag',
      service: service.name,
      ok,
      summary,
      state: ok ? 'within RPO' : 'over RPO',
      at: now.toISOString(),
    };
    db.prepare(
      'INSERT INTO check_results (check_name, service, ok, summary, details, at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      'lag',
      service.name,
      ok ? 1 : 0,
      summary,
      JSON.stringify({ state: result.state }),
      result.at,
    );
    results.push(result);
  }
  return results;
}
