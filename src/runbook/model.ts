// The parsed shape of a runbook. Pure data: the engine snapshots it into a run when the run starts,
// so editing the markdown file never changes a run in flight.

import type { RunKind } from '../run-kind.js';
import type { ActionName } from './action-names.js';

export { RUN_KINDS, type RunKind } from '../run-kind.js';

export const APPROVAL_MODES = ['two-person', 'none'] as const;
export type ApprovalMode = 'two-person';

export interface Step {
  /** Position in the whole runbook, from 0: steps run strictly in this order. */
  index: number;
  phaseIndex: number;
  text: string;
  checklist: boolean;
  action: ActionName | null;
  /** What follows the action's name, for actions that take one (`action: wait 2m`). */
  actionArgument: string | null;
  approval: ApprovalMode | null;
  /** Anything under the step's first paragraph (a command to paste, a note), as written. */
  details: string;
  line: number;
}

export interface Phase {
  index: number;
  title: string;
  budgetMinutes: number | null;
  line: number;
  steps: Step[];
}

export interface Runbook {
  /** The file name without `.md`: how config, schedules and `/dr runbook start` name it. */
  name: string;
  file: string;
  title: string;
  kind: RunKind;
  service: string | null;
  /** Where the front matter names the service, for messages about it. */
  serviceLine: number | null;
  owner: string | null;
  /** ISO date (YYYY-MM-DD) of the last review, or null when the runbook does not say. */
  reviewed: string | null;
  phases: Phase[];
}

export function allSteps(runbook: Runbook): Step[] {
  return runbook.phases.flatMap((phase) => phase.steps);
}
