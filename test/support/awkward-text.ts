// Audit events holding every character of the first plane (but lone surrogates, which no store
// keeps), astral ones, quotes, backslashes, line separators and JSON inside a string: in a
// subject, an actor, a detail. On SQLite the audit verify hashes text SQLite writes; these prove it
// writes what JSON.stringify wrote when the events were appended. On PostgreSQL, that every
// character comes back as it went in.

import type { AuditEvent } from '../../src/store/audit.js';

/** `withNul: false` for PostgreSQL, whose text cannot hold U+0000. */
export function awkwardEvents(options: { withNul: boolean }): AuditEvent[] {
  const characters: string[] = [];
  for (let code = options.withNul ? 0 : 1; code <= 0xffff; code++)
    if (code < 0xd800 || code > 0xdfff) characters.push(String.fromCharCode(code));
  const pieces: string[] = [];
  for (let at = 0; at < characters.length; at += 1024)
    pieces.push(characters.slice(at, at + 1024).join(''));
  pieces.push('😀 a\u{1F600}b \u2028\u2029 "quoted" \\ {"json":"inside"} \n\t');
  return pieces.map((piece, index) => ({
    actor: index % 2 ? piece.slice(0, 40) : 'U0ALICE',
    action: 'step.note',
    subject: piece,
    details: { note: piece, step: index, nested: { text: piece.slice(-100) } },
  }));
}
