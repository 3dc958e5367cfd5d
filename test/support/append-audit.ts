// A separate process appending audit events, to race another one on the same store.
// Usage: node --import tsx test/support/append-audit.ts STORE ACTOR COUNT

import { recordAuditEvent } from '../../src/store/audit.js';
import { openStore } from '../../src/store/db.js';

const [file, actor, count] = process.argv.slice(2);
const store = openStore(file!);
for (let i = 0; i < Number(count); i++) {
  await recordAuditEvent(store, {
    actor: actor!,
    action: 'approval.granted',
    subject: 'r-race',
    details: { i },
  });
}
await store.close();
