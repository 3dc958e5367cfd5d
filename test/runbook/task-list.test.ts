// The task-list handler written in src/runbook/task-list.ts builds the same tree as the package it
// replaces (kept as a dev dependency for this and for the parse bench's bare baseline).

import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmTaskListItemFromMarkdown } from 'mdast-util-gfm-task-list-item';
import { gfmTaskListItem } from 'micromark-extension-gfm-task-list-item';
import { describe, expect, it } from 'vitest';
import { taskListItemFromMarkdown } from '../../src/runbook/task-list.js';

const samples = [
  '- [ ] Promote the replica\n- [x] Check replication lag\n',
  '1. [ ] Promote\n   `action: db.promote`\n2. [x]  two spaces\n',
  '- [ ]\n- [x] \n- [ ] *emphasis* first\n',
  '- plain item\n- [not a box] text\n-  [ ] indented\n',
  '- [ ] first\n\n  second paragraph [x] not a box\n',
  '> - [x] quoted\n\n- [ ] nested\n  - [x] inner\n',
];

describe('task list items in runbooks', () => {
  it.each(samples)('parses %j as the gfm package does', (source) => {
    const ours = fromMarkdown(source, {
      extensions: [gfmTaskListItem()],
      mdastExtensions: [taskListItemFromMarkdown()],
    });
    const theirs = fromMarkdown(source, {
      extensions: [gfmTaskListItem()],
      mdastExtensions: [gfmTaskListItemFromMarkdown()],
    });
    expect(ours).toEqual(theirs);
  });

  it('marks checked and unchecked items and strips the box from the text', () => {
    const tree = fromMarkdown('- [x] done\n- [ ] to do\n', {
      extensions: [gfmTaskListItem()],
      mdastExtensions: [taskListItemFromMarkdown()],
    });
    const list = tree.children[0] as { children: { checked: boolean; children: unknown[] }[] };
    expect(list.children.map((item) => item.checked)).toEqual([true, false]);
    expect(list.children[0]!.children[0]).toMatchObject({
      type: 'paragraph',
      children: [{ type: 'text', value: 'done' }],
    });
  });
});
