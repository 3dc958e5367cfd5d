import { createHash, hash } from 'node:crypto';
const prev = 'a'.repeat(64);
const N = 1_000_000;
const row = { seq: 1, at: '2026-01-01T00:00:00.000Z', actor: 'U0ALICE', action: 'step.done', subject: 'run-abc123', details: '{"step":3,"note":"ok"}' };
function content(seq: number) {
  return `{"action":${JSON.stringify(row.action)},"actor":${JSON.stringify(row.actor)},"at":${JSON.stringify(row.at)},` +
    `"details":${JSON.stringify(row.details)},"seq":${seq},"subject":${JSON.stringify(row.subject)}}`;
}
for (let r = 0; r < 3; r++) {
  let t = performance.now(); let x = 0;
  for (let i = 0; i < N; i++) x += content(i).length;
  console.log('content only', (performance.now() - t).toFixed(0), 'ms');
  t = performance.now();
  for (let i = 0; i < N; i++) createHash('sha256').update(prev).update(content(i)).digest('hex');
  console.log('createHash', (performance.now() - t).toFixed(0), 'ms');
  t = performance.now();
  for (let i = 0; i < N; i++) hash('sha256', prev + content(i));
  console.log('crypto.hash', (performance.now() - t).toFixed(0), 'ms');
}
