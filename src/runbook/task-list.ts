// `- [ ] step` / `- [x] step` in mdast: a list item's `checked`, and the checkbox taken out of its
// first paragraph. What mdast-util-gfm-task-list-item's fromMarkdown half does, written here
// because that package also loads the whole of mdast-util-to-markdown (50 modules, a third of
// `lifeboat runbooks list`'s start-up) for the half we never use.

import type { Extension, CompileContext, Token } from 'mdast-util-from-markdown';

export function taskListItemFromMarkdown(): Extension {
  return {
    exit: {
      taskListCheckValueChecked: exitCheck,
      taskListCheckValueUnchecked: exitCheck,
      paragraph: exitParagraph,
    },
  };
}

function exitCheck(this: CompileContext, token: Token): void {
  // Always in a paragraph, in a list item.
  const item = this.stack[this.stack.length - 2];
  if (item?.type === 'listItem') item.checked = token.type === 'taskListCheckValueChecked';
}

function exitParagraph(this: CompileContext, token: Token): void {
  const item = this.stack[this.stack.length - 2];
  const paragraph = this.stack[this.stack.length - 1];
  if (
    item?.type === 'listItem' &&
    typeof item.checked === 'boolean' &&
    paragraph?.type === 'paragraph' &&
    item.children.find((child) => child.type === 'paragraph') === paragraph
  ) {
    // The space after the checkbox belongs to the checkbox, not to the text.
    const head = paragraph.children[0];
    if (head?.type === 'text') {
      head.value = head.value.slice(1);
      if (head.value.length === 0) paragraph.children.shift();
      else if (head.position && paragraph.position) {
        head.position.start.column++;
        head.position.start.offset = (head.position.start.offset ?? 0) + 1;
        paragraph.position.start = { ...head.position.start };
      }
    }
  }
  this.exit(token);
}
