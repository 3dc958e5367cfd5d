// Names and forms lifeboat.yml uses that other modules check too: the runbook parser, the store
// commands, a config read from the config cache. A module of its own, so that none of them loads
// the config's schema (zod) to know them.

/** A custom action's name in `actions:`, and how a runbook names it: `action: run restart-app`. */
export const CUSTOM_ACTION_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** A PostgreSQL schema's name, as the store may be given one. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

/** A PostgreSQL URL, one host or several (`postgres://u@a:5432,b:5432/db?target_session_attrs=…`). */
export const POSTGRES_URL = /^postgres(ql)?:\/\/[^/?]+\/[^/?]+(\?.*)?$/i;

/** What `permissions:` may list people for; each defaults as DESIGN.md says. */
export const PERMISSIONS = [
  'start_failover',
  'start_exercise',
  'steps',
  'gated_steps',
  'abort',
  'force_abort',
] as const;
export type Permission = (typeof PERMISSIONS)[number];
