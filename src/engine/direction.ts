// Which node a run promotes. A failover promotes the configured replica and a failback the
// configured primary, whatever happened before; a switchover moves the writer to the other node,
// so it asks the store which node writes now (the configured primary when nothing says otherwise).

import type { NodeName } from '../providers/types.js';
import { configuredTarget, type RunKind } from '../run-kind.js';
import type { Sql } from '../store/db.js';
import { currentProtection } from '../store/protection.js';

export async function promoteFor(db: Sql, service: string, kind: RunKind): Promise<NodeName> {
  if (kind !== 'switchover') return configuredTarget(kind);
  return (await currentProtection(db, service))?.writer === 'replica' ? 'primary' : 'replica';
}
