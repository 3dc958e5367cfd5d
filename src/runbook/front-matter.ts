// The YAML block between `---` lines at the top of a runbook. Every error names the line it is on.

import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import { RunbookError, closestNames } from '../errors.js';
import { RUN_KINDS, type RunKind } from './model.js';

export interface FrontMatter {
  title: string | null;
  serviceLine: number | null;
  kind: RunKind | null;
  service: string | null;
  owner: string | null;
  reviewed: string | null;
}

const KEYS = ['title', 'kind', 'service', 'owner', 'reviewed'] as const;
type Key = (typeof KEYS)[number];

const EMPTY: FrontMatter = {
  title: null,
  serviceLine: null,
  kind: null,
  service: null,
  owner: null,
  reviewed: null,
};

/**
 * Splits the front matter off `source`. The body keeps the front matter's lines as empty lines,
 * so markdown positions stay true line numbers of the file.
 */
export function splitFrontMatter(
  source: string,
  file: string,
  problems: RunbookError[],
): { data: FrontMatter; body: string } {
  const lines = source.split('\n');
  if (lines[0]?.trimEnd() !== '---') return { data: EMPTY, body: source };
  const end = lines.findIndex((line, i) => i > 0 && /^(---|\.\.\.)\s*$/.test(line));
  if (end === -1) {
    problems.push(
      new RunbookError(file, 1, 'front matter opened with "---" is never closed by a "---" line'),
    );
    return { data: EMPTY, body: lines.map(() => '').join('\n') };
  }
  const yamlText = lines.slice(1, end).join('\n');
  const body = [...lines.slice(0, end + 1).map(() => ''), ...lines.slice(end + 1)].join('\n');
  return { data: parseFrontMatter(yamlText, file, problems), body };
}

function parseFrontMatter(yamlText: string, file: string, problems: RunbookError[]): FrontMatter {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false, uniqueKeys: true });
  // The YAML starts on the file's line 2.
  const lineOf = (offset: number | undefined): number => lineCounter.linePos(offset ?? 0).line + 1;
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const reason = error.message.split('\n')[0] ?? 'invalid YAML';
      problems.push(
        new RunbookError(file, lineOf(error.pos[0]), `malformed front matter: ${reason}`),
      );
    }
    return EMPTY;
  }
  if (doc.contents === null) return EMPTY;
  if (!isMap(doc.contents)) {
    problems.push(new RunbookError(file, 2, 'malformed front matter: expected "key: value" lines'));
    return EMPTY;
  }
  const data: FrontMatter = { ...EMPTY };
  for (const pair of doc.contents.items) {
    const keyNode = pair.key;
    const keyLine = lineOf(isScalar(keyNode) ? keyNode.range?.[0] : undefined);
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    if (!(KEYS as readonly string[]).includes(key)) {
      const hint = closestNames(key, KEYS);
      problems.push(
        new RunbookError(
          file,
          keyLine,
          `unknown front matter key "${key}"${hint.length ? ` (did you mean ${hint[0]}?)` : ''} (known: ${KEYS.join(', ')})`,
        ),
      );
      continue;
    }
    const valueNode = pair.value;
    const value = isScalar(valueNode) ? valueNode.value : valueNode;
    const valueLine = isScalar(valueNode) ? lineOf(valueNode.range?.[0]) : keyLine;
    try {
      Object.assign(data, { [key]: checkValue(key as Key, value, file, valueLine) });
    } catch (error) {
      if (!(error instanceof RunbookError)) throw error;
      problems.push(error);
    }
    if (key === 'service') data.serviceLine = keyLine;
  }
  return data;
}

function checkValue(key: Key, value: unknown, file: string, line: number): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new RunbookError(file, line, `front matter "${key}" must be a single value`);
  }
  const text = String(value).trim();
  if (key === 'kind' && !(RUN_KINDS as readonly string[]).includes(text)) {
    throw new RunbookError(file, line, `unknown kind "${text}" (known: ${RUN_KINDS.join(', ')})`);
  }
  if (key === 'reviewed' && !isIsoDate(text)) {
    throw new RunbookError(file, line, `reviewed "${text}" is not a date like 2026-10-01`);
  }
  return text;
}

function isIsoDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}
