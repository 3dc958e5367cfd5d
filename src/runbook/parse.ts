// Markdown runbook -> Runbook. Pure: no I/O, and any input either parses or raises a RunbookError
// naming file:line — never anything else.

import type { Heading, List, ListItem, Paragraph, PhrasingContent, RootContent } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmTaskListItem } from 'micromark-extension-gfm-task-list-item';
import {
  ACTION_NAMES,
  DURATION_ACTIONS,
  MUTATING_ACTIONS,
  CUSTOM_ACTIONS,
  isActionName,
  type ActionName,
} from './action-names.js';
import { CUSTOM_ACTION_NAME } from '../config/names.js';
import { parseDurationSeconds } from '../duration.js';
import { RunbookError, closestNames } from '../errors.js';
import { runbookNameOf } from './files.js';
import { splitFrontMatter } from './front-matter.js';
import { taskListItemFromMarkdown } from './task-list.js';
import { APPROVAL_MODES, type ApprovalMode, type Phase, type Runbook, type Step } from './model.js';

/** Parses `source` (the text of `file`) into a Runbook named `name`; the first problem throws. */
export function parseRunbook(source: string, file: string, name = runbookNameOf(file)): Runbook {
  const { runbook, problems } = checkRunbook(source, file, name);
  if (problems[0]) throw problems[0];
  return runbook!;
}

/**
 * Every problem of a runbook, in line order, each naming file:line (what `lifeboat runbooks check`
 * lists), and the runbook when there are none. Parsing goes on past a problem where it can: an
 * unknown action makes that step manual, a bad budget makes none, an unknown key is skipped.
 */
export function checkRunbook(
  source: string,
  file: string,
  name = runbookNameOf(file),
): { runbook: Runbook | null; problems: RunbookError[] } {
  const problems: RunbookError[] = [];
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const { data, body } = splitFrontMatter(text, file, problems);
  const tree = fromMarkdown(body, {
    extensions: [gfmTaskListItem()],
    mdastExtensions: [taskListItemFromMarkdown()],
  });
  const builder = new PhaseBuilder(file, body, problems);
  for (const node of tree.children) builder.add(node);
  const phases = builder.finish();
  if (phases.length === 0 && problems.length === 0) {
    problems.push(
      new RunbookError(
        file,
        1,
        'no steps at all: write steps as list items ("1. Promote the replica") under a heading',
      ),
    );
  }
  problems.sort((a, b) => a.line - b.line);
  if (problems.length > 0) return { runbook: null, problems };
  return {
    runbook: {
      name,
      file,
      title: data.title ?? builder.documentTitle ?? name,
      kind: data.kind ?? 'drill',
      service: data.service,
      serviceLine: data.serviceLine,
      owner: data.owner,
      reviewed: data.reviewed,
      phases,
    },
    problems,
  };
}

interface Section {
  title: string;
  budgetMinutes: number | null;
  line: number;
  steps: Omit<Step, 'index' | 'phaseIndex'>[];
}

/** Walks the top-level nodes in order: headings open sections, lists add steps to them. */
class PhaseBuilder {
  documentTitle: string | null = null;
  private readonly sections: Section[] = [];
  private current: Section | null = null;

  constructor(
    private readonly file: string,
    private readonly body: string,
    private readonly problems: RunbookError[],
  ) {}

  add(node: RootContent): void {
    if (node.type === 'heading') this.addHeading(node);
    if (node.type === 'list') this.addList(node);
  }

  finish(): Phase[] {
    const phases: Phase[] = [];
    let stepIndex = 0;
    for (const section of this.sections) {
      if (section.steps.length === 0) continue; // a heading that only groups others, or prose
      const phaseIndex = phases.length;
      phases.push({
        index: phaseIndex,
        title: section.title,
        budgetMinutes: section.budgetMinutes,
        line: section.line,
        steps: section.steps.map((step) => ({ ...step, index: stepIndex++, phaseIndex })),
      });
    }
    return phases;
  }

  private addHeading(heading: Heading): void {
    const line = lineOf(heading);
    const { title, budgetMinutes } = splitBudget(
      plainText(heading.children),
      this.file,
      line,
      this.problems,
    );
    if (heading.depth === 1 && this.documentTitle === null) {
      this.documentTitle = title;
      this.current = null;
      return;
    }
    this.current = { title, budgetMinutes, line, steps: [] };
    this.sections.push(this.current);
  }

  private addList(list: List): void {
    if (this.current === null) {
      // Steps straight under the title (or with no heading at all) form a phase of their own.
      this.current = {
        title: this.documentTitle ?? 'Steps',
        budgetMinutes: null,
        line: lineOf(list),
        steps: [],
      };
      this.sections.push(this.current);
    }
    const section = this.current;
    for (const item of list.children) section.steps.push(...this.stepsOf(item));
  }

  /** A list item is a step; a list nested in it adds steps after it. */
  private stepsOf(item: ListItem): Section['steps'] {
    const line = lineOf(item);
    const [first, ...rest] = item.children;
    const nested = rest.filter((child): child is List => child.type === 'list');
    const detailNodes = rest.filter((child) => child.type !== 'list');
    if (first?.type === 'list') nested.unshift(first);
    const paragraph = first?.type === 'paragraph' ? first : null;
    const parsed = paragraph ? this.parseStepText(paragraph, line) : null;
    const steps: Section['steps'] = [];
    if (parsed === null && first?.type !== 'list') {
      this.problems.push(
        new RunbookError(this.file, line, 'empty step: a list item needs text saying what to do'),
      );
    }
    if (parsed !== null) {
      steps.push({
        text: parsed.text,
        checklist: typeof item.checked === 'boolean',
        action: parsed.action,
        actionArgument: parsed.actionArgument,
        approval: parsed.approval,
        details: this.sourceOf(detailNodes),
        line,
      });
    }
    for (const list of nested)
      for (const child of list.children) steps.push(...this.stepsOf(child));
    return steps;
  }

  private parseStepText(
    paragraph: Paragraph,
    line: number,
  ): {
    text: string;
    action: ActionName | null;
    actionArgument: string | null;
    approval: ApprovalMode | null;
  } | null {
    let action: ActionName | null = null;
    let actionArgument: string | null = null;
    let approvalWord: string | null = null;
    const kept: PhrasingContent[] = [];
    for (const node of paragraph.children) {
      const directive = node.type === 'inlineCode' ? parseDirective(node.value) : null;
      if (directive === null) {
        kept.push(node);
        continue;
      }
      const where = node.position ? node.position.start.line : line;
      try {
        if (directive.key === 'action') {
          if (action !== null)
            throw new RunbookError(
              this.file,
              where,
              `a step binds one action; this one also names "${directive.value}"`,
            );
          ({ action, argument: actionArgument } = checkAction(directive.value, this.file, where));
        } else if (directive.key === 'approval') {
          approvalWord = checkApproval(directive.value, this.file, where);
        } else {
          const hint = closestNames(directive.key, ['action', 'approval'])[0];
          throw new RunbookError(
            this.file,
            where,
            `unknown directive "${directive.key}:"${hint ? ` (did you mean ${hint}:?)` : ''}`,
          );
        }
      } catch (error) {
        // Noted; the step is read on without that directive, to find the next problem.
        if (!(error instanceof RunbookError)) throw error;
        this.problems.push(error);
      }
    }
    if (approvalWord === 'none' && action !== null && CUSTOM_ACTIONS.has(action)) {
      this.problems.push(
        new RunbookError(
          this.file,
          line,
          `whether "${action} ${actionArgument ?? ''}" needs two people is set in lifeboat.yml (actions.${actionArgument ?? 'NAME'}.approval), not in a runbook: remove "approval: none"`,
        ),
      );
    } else if (approvalWord === 'none' && action !== null && MUTATING_ACTIONS.has(action)) {
      this.problems.push(
        new RunbookError(
          this.file,
          line,
          `${action} changes infrastructure and always needs two-person approval: remove "approval: none"`,
        ),
      );
    }
    const mutating = action !== null && MUTATING_ACTIONS.has(action);
    const approval: ApprovalMode | null =
      approvalWord === 'two-person' || mutating ? 'two-person' : null;
    const text = plainText(kept).replace(/\s+/g, ' ').trim();
    if (text === '' && action === null) return null;
    const named = action !== null && CUSTOM_ACTIONS.has(action) ? ` ${actionArgument ?? ''}` : '';
    return { text: text || `Run ${action}${named}`, action, actionArgument, approval };
  }

  /** The markdown source of `nodes`, dedented, for a step's details. */
  private sourceOf(nodes: RootContent[]): string {
    const first = nodes[0]?.position;
    const last = nodes[nodes.length - 1]?.position;
    if (!first || !last) return '';
    const lineStart = this.body.lastIndexOf('\n', first.start.offset ?? 0) + 1;
    const raw = this.body.slice(lineStart, last.end.offset);
    const indent = Math.min(
      ...raw
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => l.length - l.trimStart().length),
    );
    return raw
      .split('\n')
      .map((l) => l.slice(indent))
      .join('\n')
      .trim();
  }
}

const DIRECTIVE = /^\s*([a-z][a-z-]*)\s*:\s*(.*?)\s*$/i;
const DIRECTIVE_KEYS = ['action', 'approval'];

/** `action: db.promote` -> {key, value}; ordinary code spans (`SELECT 1`) -> null. */
function parseDirective(code: string): { key: string; value: string } | null {
  const match = DIRECTIVE.exec(code);
  if (!match) return null;
  const key = (match[1] ?? '').toLowerCase();
  const value = match[2] ?? '';
  if (DIRECTIVE_KEYS.includes(key)) return { key, value };
  // A near miss of a directive ("acton: db.promote") must not silently become a manual step.
  const looksLikeDirective =
    /^[a-z][\w.-]*$/i.test(value) && closestNames(key, DIRECTIVE_KEYS).length > 0;
  return looksLikeDirective ? { key, value } : null;
}

function checkAction(
  value: string,
  file: string,
  line: number,
): { action: ActionName; argument: string | null } {
  const [name = '', ...rest] = value.split(/\s+/);
  const argument = rest.join(' ') || null;
  if (name === '') {
    throw new RunbookError(
      file,
      line,
      `"action:" names no action (known: ${ACTION_NAMES.join(', ')})`,
    );
  }
  if (!isActionName(name)) {
    const hint = closestNames(name, ACTION_NAMES);
    throw new RunbookError(
      file,
      line,
      `unknown action "${name}"${hint.length ? ` (did you mean ${hint.join(' or ')}?)` : ''} (known: ${ACTION_NAMES.join(', ')})`,
    );
  }
  if (CUSTOM_ACTIONS.has(name)) {
    if (argument === null || !CUSTOM_ACTION_NAME.test(argument))
      throw new RunbookError(
        file,
        line,
        argument === null
          ? `${name} names one of the actions lifeboat.yml defines, like "action: ${name} restart-app"`
          : `"${argument}" is not an action name like restart-app (lifeboat.yml defines the ${name === 'run' ? 'command' : 'request'}; a runbook only names it)`,
      );
    return { action: name, argument };
  }
  if (DURATION_ACTIONS.has(name)) {
    if (argument !== null && parseDurationSeconds(argument) === null) {
      throw new RunbookError(
        file,
        line,
        `${name} takes a duration like "action: ${name} 2m", not "${argument}"`,
      );
    }
    return { action: name, argument };
  }
  if (argument !== null)
    throw new RunbookError(file, line, `${name} takes no argument (found "${argument}")`);
  return { action: name, argument: null };
}

function checkApproval(value: string, file: string, line: number): string {
  if ((APPROVAL_MODES as readonly string[]).includes(value)) return value;
  throw new RunbookError(
    file,
    line,
    `unknown approval mode "${value}" (known: ${APPROVAL_MODES.join(', ')})`,
  );
}

const TRAILING_PARENS = /\s*\(([^()]*)\)\s*$/;
const BUDGET = /^(\d+(?:\.\d+)?)\s*(minutes?|mins?|m|hours?|hrs?|h)$/i;

/** "Phase 2: Failover (15 minutes)" -> title "Phase 2: Failover", budget 15. */
function splitBudget(
  heading: string,
  file: string,
  line: number,
  problems: RunbookError[],
): { title: string; budgetMinutes: number | null } {
  const text = heading.replace(/\s+/g, ' ').trim();
  const match = TRAILING_PARENS.exec(text);
  const inner = match?.[1]?.trim() ?? '';
  // Only a parenthesis that starts with a number is a budget; "(optional)" is part of the title.
  if (!match || !/^\d/.test(inner)) return { title: text, budgetMinutes: null };
  const budget = BUDGET.exec(inner);
  const amount = Number(budget?.[1]);
  if (!budget || !(amount > 0)) {
    problems.push(
      new RunbookError(
        file,
        line,
        `budget "(${inner})" is not a duration: write it like (15 minutes), (15 min) or (2 hours)`,
      ),
    );
    return { title: text.slice(0, match.index).trim(), budgetMinutes: null };
  }
  const hours = /^h/i.test(budget[2] ?? '');
  return { title: text.slice(0, match.index).trim(), budgetMinutes: hours ? amount * 60 : amount };
}

type TextNode = PhrasingContent | RootContent;

/** The words a person reads: link text, emphasis unwrapped, code spans kept in backticks. */
function plainText(nodes: readonly TextNode[]): string {
  return nodes
    .map((node) => {
      if (node.type === 'text') return node.value;
      if (node.type === 'inlineCode') return `\`${node.value}\``;
      if (node.type === 'break') return ' ';
      if ('children' in node) return plainText(node.children);
      return '';
    })
    .join('');
}

function lineOf(node: { position?: { start: { line: number } } }): number {
  return node.position?.start.line ?? 1;
}
