import { existsSync } from 'node:fs';
import { recordAuditEvents, verifyAuditLog } from '../src/store/audit.js';
import { openStore } from '../src/store/db.js';
const file = '/tmp/av.db';
if (!existsSync(file)) {
  const store = openStore(file);
  let tick = Date.parse('2026-01-01T00:00:00Z');
  for (let done = 0; done < 1_000_000; done += 10_000) {
    const batch = Array.from({ length: 10_000 }, (_, i) => ({
      actor: i % 3 ? 'U0ALICE' : 'system',
      action: i % 2 ? 'step.done' : 'action.done',
      subject: `r-${Math.floor((done + i) / 40)}`,
      details: { step: i % 12, summary: `promoted replica ${i} with pg_promote and verified it writable` },
    }));
    await recordAuditEvents(store, batch, () => new Date((tick += 1000)));
  }
  await store.close();
}
const store = openStore(file);
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  const r = await verifyAuditLog(store);
  console.log('verify', r.ok, Math.round(performance.now() - t));
  t = performance.now();
  let n = 0;
  for (const row of store.db.prepare('SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log').raw().iterate() as Iterable<unknown[]>) n++;
  console.log('raw iterate', n, Math.round(performance.now() - t));
  t = performance.now();
  n = 0;
  for (let after = 0; ; ) {
    const rows = store.db.prepare('SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 5000').all(after) as {seq:number}[];
    n += rows.length; if (rows.length < 5000) break; after = rows.at(-1)!.seq;
  }
  console.log('obj batches', n, Math.round(performance.now() - t));
}
console.log('rss', process.resourceUsage().maxRSS / 1024);
