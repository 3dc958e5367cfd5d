// The public JSON shape of a runbook (DESIGN.md, `lifeboat runbooks show FILE --json`).

import type { Runbook } from './model.js';

export interface RunbookJson {
  title: string;
  kind: string;
  phases: {
    title: string;
    budget_minutes: number | null;
    steps: { text: string; checklist: boolean; action: string | null; approval: string | null }[];
  }[];
}

export function runbookToJson(runbook: Runbook): RunbookJson {
  return {
    title: runbook.title,
    kind: runbook.kind,
    phases: runbook.phases.map((phase) => ({
      title: phase.title,
      budget_minutes: phase.budgetMinutes,
      steps: phase.steps.map((step) => ({
        text: step.text,
        checklist: step.checklist,
        action: step.action,
        approval: step.approval,
      })),
    })),
  };
}
