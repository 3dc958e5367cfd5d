// The first columns of every table of runs the CLI prints (run status, history).

import type { RunRecord } from '../store/runs.js';
import { formatLocal } from '../time.js';

/** The columns every table of runs starts with. */
export const RUN_COLUMNS = ['RUN', 'STARTED', 'BY', 'KIND', 'RUNBOOK', 'SERVICE', 'STATUS'];

/** A run's first columns: the person by their account in cli.users, the time in this zone, named. */
export function runCells(run: RunRecord, personName: (id: string) => string): string[] {
  return [
    run.id,
    formatLocal(new Date(run.startedAt), undefined, 'minute'),
    personName(run.startedBy),
    run.kind,
    run.runbook,
    run.service ?? '-',
    run.status,
  ];
}
