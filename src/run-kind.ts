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
