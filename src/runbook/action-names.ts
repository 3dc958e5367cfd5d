// The names a runbook step may bind to, and which of them change infrastructure. The parser
// rejects any other name; the engine's registry implements exactly these.

export const ACTION_NAMES = [
  'db.check-lag',
  'db.fence',
  'db.catch-up',
  'db.promote',
  'db.restore',
  'db.scale-up',
  'db.verify-writable',
  'db.rebuild-replica',
  'db.verify-replica',
  'dns.switch',
  'dns.verify',
  'backup.take',
  'backup.copy-snapshot',
  'backup.verify',
  'app.scale-up',
  'http.check',
  'wait',
  'notify',
  'run',
  'http',
  'lambda',
  'announce',
] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

/** Actions that change infrastructure: they always sit behind two-person approval. */
export const MUTATING_ACTIONS: ReadonlySet<ActionName> = new Set([
  'db.fence',
  'db.promote',
  'db.restore',
  'db.scale-up',
  'db.rebuild-replica',
  'dns.switch',
  'app.scale-up',
  // The team's own: two-person unless lifeboat.yml says `approval: none` for that one (never the runbook).
  'run',
  'http',
  'lambda',
]);

/**
 * Actions that name one the config defines (`action: run restart-app`, `action: http status-page`):
 * runbooks name commands and requests, never define them.
 */
export const CUSTOM_ACTIONS: ReadonlySet<ActionName> = new Set(['run', 'http', 'lambda']);

/** What each kind of custom action is, in messages: "no command …", "is a command". */
export const CUSTOM_KIND_NAMES: Record<'run' | 'http' | 'lambda', { noun: string; a: string }> = {
  run: { noun: 'command', a: 'a command' },
  http: { noun: 'HTTP request', a: 'an HTTP request' },
  lambda: { noun: 'Lambda function', a: 'a Lambda function' },
};

/**
 * Actions that make the DR side take writes — a replica promoted, a backup restored into the DR
 * server: the fence gate (the old primary must not still accept writes) and the RPO gate hold
 * them, and once one has started, the old primary is never unfenced.
 */
export const PROMOTING_ACTIONS: ReadonlySet<ActionName> = new Set(['db.promote', 'db.restore']);

/** Actions that take a duration after their name: `action: wait 2m`, `action: db.catch-up 5m`. */
export const DURATION_ACTIONS: ReadonlySet<ActionName> = new Set(['wait', 'db.catch-up']);

export function isActionName(name: string): name is ActionName {
  return (ACTION_NAMES as readonly string[]).includes(name);
}
