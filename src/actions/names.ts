// The names a runbook step may bind to, and which of them change infrastructure. The parser
// rejects any other name; the engine's registry implements exactly these.

export const ACTION_NAMES = [
  'db.check-lag',
  'db.promote',
  'db.verify-writable',
  'dns.switch',
  'dns.verify',
  'backup.verify',
  'http.check',
  'wait',
  'notify',
] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

/** Actions that change infrastructure: they always sit behind two-person approval. */
export const MUTATING_ACTIONS: ReadonlySet<ActionName> = new Set(['db.promote', 'dns.switch']);

export function isActionName(name: string): name is ActionName {
  return (ACTION_NAMES as readonly string[]).includes(name);
}
