// `lifeboat runbooks list|check|show`: read and lint the runbooks folder.

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { loadConfigCached } from '../config/cache.js';
import { configPath } from '../config/environment.js';
import { runbookToJson } from '../runbook/json.js';
import { cachedRunbookReader } from '../runbook/cache.js';
import { runbookFilesIn, runbookFilesOrNone } from '../runbook/files.js';
import { namesAFile } from '../runbook/reader.js';
import { allSteps, type Runbook } from '../runbook/model.js';
import { checkRunbookReferences, isStale } from '../runbook/references.js';
import { formatTable, type Io } from './io.js';

type Env = Record<string, string | undefined>;

export interface RunbooksOptions {
  dir?: string;
  json?: boolean;
}

export async function listRunbooks(
  options: RunbooksOptions,
  io: Io,
  env: Env,
  now: Date,
): Promise<number> {
  const { dir } = await locate(options, env);
  const reader = await cachedRunbookReader(() => runbookFilesIn(dir), { env });
  const library = reader.loadRunbookLibrary(dir);
  const rows = library.runbooks.map((runbook) => ({
    name: runbook.name,
    file: runbook.file,
    title: runbook.title,
    kind: runbook.kind,
    service: runbook.service,
    owner: runbook.owner,
    reviewed: runbook.reviewed,
    stale: isStale(runbook, now),
    phases: runbook.phases.length,
    steps: allSteps(runbook).length,
  }));
  if (options.json) {
    io.out(JSON.stringify(rows, null, 2));
  } else if (rows.length === 0) {
    io.out(`no runbooks in ${dir}`);
  } else {
    io.out(
      formatTable([
        ['NAME', 'KIND', 'SERVICE', 'STEPS', 'REVIEWED', 'TITLE'],
        ...rows.map((r) => [
          r.name,
          r.kind,
          r.service ?? '-',
          String(r.steps),
          `${r.reviewed ?? 'never'}${r.stale ? ' (stale)' : ''}`,
          r.title,
        ]),
      ]),
    );
  }
  for (const error of library.errors) io.err(error.message);
  return library.errors.length > 0 ? 1 : 0;
}

/** Lints every runbook in the folder and the files given; exit 1 on any problem. */
export async function checkRunbooks(
  files: string[],
  options: RunbooksOptions,
  io: Io,
  env: Env,
): Promise<number> {
  const { dir, config } = await locate(options, env);
  const reader = await cachedRunbookReader(() => [...runbookFilesIn(dir), ...files], { env });
  const library = reader.loadRunbookLibrary(dir);
  const errors: string[] = library.errors.map((error) => error.message);
  const extra: Runbook[] = [];
  for (const file of files) {
    const checked = reader.checkRunbookFile(file);
    if (checked.runbook) extra.push(checked.runbook);
    errors.push(...checked.problems.map((problem) => problem.message));
  }
  if (config) errors.push(...checkRunbookReferences(config, library.runbooks, extra));
  const checked = library.fileCount + files.length;
  for (const line of errors) io.out(line);
  const summary = `${checked} runbook${checked === 1 ? '' : 's'} checked: ${
    errors.length === 0
      ? 'no problems'
      : `${errors.length} problem${errors.length === 1 ? '' : 's'}`
  }`;
  if (errors.length === 0) io.out(summary);
  else io.err(summary);
  return errors.length === 0 ? 0 : 1;
}

export async function showRunbook(
  nameOrFile: string,
  options: RunbooksOptions,
  io: Io,
  env: Env,
): Promise<number> {
  const { dir } = await locate(options, env);
  const reader = await cachedRunbookReader(
    () => (namesAFile(nameOrFile) ? [nameOrFile] : runbookFilesOrNone(dir)),
    { env },
  );
  const runbook = reader.resolveRunbook(nameOrFile, dir);
  io.out(options.json ? JSON.stringify(runbookToJson(runbook), null, 2) : describeRunbook(runbook));
  return 0;
}

/** The runbook as a person skims it in a terminal. */
export function describeRunbook(runbook: Runbook): string {
  const facts = [
    runbook.kind,
    runbook.service,
    runbook.owner && `owner ${runbook.owner}`,
    runbook.reviewed && `reviewed ${runbook.reviewed}`,
  ];
  const lines = [runbook.title, `${facts.filter(Boolean).join(' · ')}  (${runbook.file})`];
  for (const phase of runbook.phases) {
    lines.push(
      '',
      `${phase.title}${phase.budgetMinutes === null ? '' : ` (${phase.budgetMinutes} min)`}`,
    );
    for (const step of phase.steps) {
      const tags = [
        step.action && `action ${step.action}`,
        step.approval && `${step.approval} approval`,
      ].filter(Boolean);
      const box = step.checklist ? '[ ] ' : '';
      lines.push(
        `  ${String(step.index + 1).padStart(2)}. ${box}${step.text}${tags.length ? `  → ${tags.join(' · ')}` : ''}`,
      );
      if (step.details) lines.push(...step.details.split('\n').map((line) => `        ${line}`));
    }
  }
  return lines.join('\n');
}

/**
 * The runbooks folder: --dir, else the config's runbooks_dir, else ./runbooks. The config is read
 * when it exists (or LIFEBOAT_CONFIG names it), so references can be checked against it.
 */
async function locate(
  options: RunbooksOptions,
  env: Env,
): Promise<{ dir: string; config: Config | null }> {
  const config =
    env.LIFEBOAT_CONFIG || existsSync(configPath(env)) ? await loadConfigCached(env) : null;
  const dir = options.dir
    ? path.resolve(options.dir)
    : (config?.runbooksDir ?? path.resolve('runbooks'));
  return { dir, config };
}
