// Which node a run promotes. A failover promotes the configured replica and a failback the
// configured primary, whatever happened before; a switchover moves the writer to the other node,
// so it asks the store which node writes now (the configured primary when nothing says otherwise).

import type { NodeName } from '../providers/types.js';
import type { RunKind } from '../runbook/model.js';
import type { Db } from '../store/db.js';
import { currentProtection } from '../store/protection.js';

export function promoteFor(db: Db, service: string, kind: RunKind): NodeName {
  if (kind === 'failback') return 'primary';
  if (kind !== 'switchover') return 'replica';
  return currentProtection(db, service)?.writer === 'replica' ? 'primary' : 'replica';
}
