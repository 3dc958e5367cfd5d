// What a run is: the kinds a runbook declares, the config schedules and permits, and the engine
// runs. Ground floor: the config, the runbooks and the engine all name them.

export const RUN_KINDS = [
  'failover',
  'failback',
  'switchover',
  'drill',
  'tabletop',
  'restore-test',
] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/**
 * The node a run of `kind` promotes as configured: a failback the primary, every other kind the
 * replica. A switchover asks the store which node writes now first (engine/direction.ts).
 */
export function configuredTarget(kind: RunKind): 'primary' | 'replica' {
  return kind === 'failback' ? 'primary' : 'replica';
}
