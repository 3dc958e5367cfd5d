// Block Kit -> HTML for the local console: the blocks the bot sends (header, section with mrkdwn,
// context, divider, actions with buttons, inputs in modals) rendered the way Slack shows them, so
// the console is played through the same messages Slack would receive. Pure; every text escaped.

import { formatLocal } from '../../time.js';
import { escapeAttribute, escapeHtml } from '../../html.js';

interface TextObject {
  type: 'mrkdwn' | 'plain_text';
  text: string;
}

interface Element {
  type: string;
  text?: TextObject;
  action_id?: string;
  value?: string;
  style?: 'primary' | 'danger';
  multiline?: boolean;
  placeholder?: TextObject;
  initial_value?: string;
}

export interface Block {
  type: string;
  block_id?: string;
  text?: TextObject;
  elements?: (Element | TextObject)[];
  label?: TextObject;
  hint?: TextObject;
  element?: Element;
  optional?: boolean;
  /** image blocks */
  image_url?: string;
  /** An image block showing a file uploaded to Slack (App Home's chart). */
  slack_file?: { id?: string };
  alt_text?: string;
  title?: TextObject;
}

export interface ModalView {
  title?: TextObject;
  submit?: TextObject;
  close?: TextObject;
  blocks: Block[];
}

/** Who a user id is, for mentions: Slack shows `<@U0ALICE>` as "@alice". Unknown ids stay ids. */
export type NameOf = (userId: string) => string;
const idsOnly: NameOf = (id) => id;

export function renderBlocks(blocks: readonly Block[], names: NameOf = idsOnly): string {
  return blocks.map((block) => renderBlock(block, names)).join('\n');
}

export function renderModal(view: ModalView, names: NameOf = idsOnly): string {
  return [
    `<div class="modal-title">${escapeHtml(view.title?.text ?? '')}</div>`,
    `<form class="modal-body">${renderBlocks(view.blocks, names)}`,
    `<div class="modal-buttons"><button type="button" class="cancel">${escapeHtml(view.close?.text ?? 'Cancel')}</button>`,
    `<button type="submit" class="primary">${escapeHtml(view.submit?.text ?? 'Submit')}</button></div></form>`,
  ].join('');
}

function renderBlock(block: Block, names: NameOf): string {
  switch (block.type) {
    case 'header':
      return `<div class="block header">${escapeHtml(block.text?.text ?? '')}</div>`;
    case 'section':
      return `<div class="block section">${renderText(block.text, names)}</div>`;
    case 'context':
      return `<div class="block context">${(block.elements ?? []).map((element) => `<span>${renderText(element as TextObject, names)}</span>`).join(' ')}</div>`;
    case 'divider':
      return '<hr class="block divider">';
    case 'actions':
      return `<div class="block actions">${(block.elements ?? []).map((element) => renderButton(element as Element)).join('')}</div>`;
    case 'input':
      return renderInput(block);
    case 'image': {
      // Only files this console holds: the page never loads anything from elsewhere.
      const fileId = block.slack_file?.id;
      const source =
        typeof block.image_url === 'string' && /^\/files\/F\w+$/.test(block.image_url)
          ? block.image_url
          : typeof fileId === 'string' && /^F\w+$/.test(fileId)
            ? `/files/${fileId}`
            : null;
      return source
        ? `<figure class="block image"><img src="${escapeAttribute(source)}" alt="${escapeAttribute(block.alt_text ?? '')}"><figcaption>${escapeHtml(block.title?.text ?? '')}</figcaption></figure>`
        : '<div class="block unknown">(image)</div>';
    }
    default:
      return `<div class="block unknown">(${escapeHtml(block.type)} block)</div>`;
  }
}

function renderButton(element: Element): string {
  if (element.type !== 'button') return '';
  const style = element.style ? ` ${element.style}` : '';
  return `<button class="button${style}" data-action-id="${escapeAttribute(element.action_id ?? '')}" data-value="${escapeAttribute(element.value ?? '')}">${escapeHtml(element.text?.text ?? '')}</button>`;
}

function renderInput(block: Block): string {
  const element = block.element;
  const name = escapeAttribute(block.block_id ?? '');
  const placeholder = element?.placeholder
    ? ` placeholder="${escapeAttribute(element.placeholder.text)}"`
    : '';
  const initial = element?.initial_value ?? '';
  const field = element?.multiline
    ? `<textarea name="${name}"${placeholder}>${escapeHtml(initial)}</textarea>`
    : `<input type="text" name="${name}"${placeholder}${initial ? ` value="${escapeAttribute(initial)}"` : ''}>`;
  const optional = block.optional ? ' <span class="optional">(optional)</span>' : '';
  const hint = block.hint ? `<div class="hint">${escapeHtml(block.hint.text)}</div>` : '';
  return `<label class="block input"><span class="label">${escapeHtml(block.label?.text ?? '')}${optional}</span>${field}${hint}</label>`;
}

function renderText(text: TextObject | undefined, names: NameOf): string {
  if (!text) return '';
  return text.type === 'plain_text' ? escapeHtml(text.text) : mrkdwnToHtml(text.text, names);
}

/** `!date^EPOCH^TOKENS` in this machine's zone, named: "2026-11-24 04:12 UTC+1". */
function localTime(target: string): string {
  const [, epoch = '0', tokens = ''] = target.split('^');
  const [date = '', time = '', zone = ''] = formatLocal(new Date(Number(epoch) * 1000)).split(' ');
  const shown = tokens
    .replace('{date_num}', date)
    .replace('{time_secs}', time)
    .replace('{time}', time.slice(0, 5));
  return `${shown} ${zone}`;
}

/**
 * Slack mrkdwn: *bold*, _italic_, ~strike~, `code`, ```pre```, <@U123> mentions, <url|label>
 * links, <!date^…> times, :emoji: names, newlines. The text arrives with &, < and > escaped as Slack wants them.
 */
export function mrkdwnToHtml(text: string, names: NameOf = idsOnly): string {
  const blocks = text.split('```');
  return blocks
    .map((part, i) => {
      if (i % 2 === 1) return `<pre>${escapeSlackText(part)}</pre>`;
      return part
        .split(/(`[^`\n]+`)/)
        .map((chunk) =>
          chunk.startsWith('`') && chunk.endsWith('`') && chunk.length > 1
            ? `<code>${escapeSlackText(chunk.slice(1, -1))}</code>`
            : inline(chunk, names),
        )
        .join('');
    })
    .join('');
}

function inline(chunk: string, names: NameOf): string {
  let html = chunk.replace(
    /<(@[UW][A-Z0-9]+|!date\^\d+\^[^|>]*|![a-z]+|https?:\/\/[^|>]+)(?:\|([^>]+))?>/g,
    (_, target: string, label?: string) => {
      if (target.startsWith('@')) return `\uE000mention:${target.slice(1)}\uE000`;
      // <!date^EPOCH^{date_num} {time}|fallback>: Slack shows it in the reader's zone; so do we.
      if (target.startsWith('!date^'))
        return `\uE000date:${encodeURIComponent(localTime(target))}\uE000`;
      // <!channel>, <!here>, <!everyone>: Slack notifies everyone and shows "@channel".
      if (target.startsWith('!')) return `\uE000mention:${target.slice(1)}\uE000`;
      return `\uE000link:${encodeURIComponent(target)}:${encodeURIComponent(label ?? target)}\uE000`;
    },
  );
  html = escapeSlackText(html);
  html = html
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, '$1<strong>$2</strong>')
    .replace(/(^|[\s(])_([^_\n]+)_/g, '$1<em>$2</em>')
    .replace(/(^|[\s(])~([^~\n]+)~/g, '$1<del>$2</del>')
    .replace(
      /:([a-z0-9_+-]+):/g,
      (_, name: string) =>
        `<span class="emoji" title=":${name}:">${EMOJI[name] ?? `:${name}:`}</span>`,
    )
    .replace(/\n/g, '<br>');
  return html.replace(
    /\uE000(mention|link|date):([^\uE000]*)\uE000/g,
    (_, kind: string, rest: string) => {
      if (kind === 'date') return `<time>${escapeHtml(decodeURIComponent(rest))}</time>`;
      if (kind === 'mention') return `<span class="mention">@${escapeHtml(names(rest))}</span>`;
      const [target = '', label = ''] = rest.split(':').map(decodeURIComponent);
      return `<a href="${escapeAttribute(target)}" target="_blank" rel="noopener">${escapeHtml(label)}</a>`;
    },
  );
}

/** The emoji the bot uses, as Slack draws them; any other name stays `:name:`. */
const EMOJI: Record<string, string> = {
  white_check_mark: '\u2705',
  x: '\u274C',
  warning: '\u26A0\uFE0F',
  lock: '\u{1F512}',
  spiral_note_pad: '\u{1F5D2}\uFE0F',
  no_entry_sign: '\u{1F6AB}',
  no_entry: '\u26D4',
  memo: '\u{1F4DD}',
  loudspeaker: '\u{1F4E2}',
  hourglass_flowing_sand: '\u23F3',
  hourglass: '\u231B',
  fast_forward: '\u23E9',
  boom: '\u{1F4A5}',
  alarm_clock: '\u23F0',
  rotating_light: '\u{1F6A8}',
};

/** Text that Slack already escaped (&amp; &lt; &gt;) stays so; anything else is escaped. */
function escapeSlackText(text: string): string {
  return text
    .replace(/&(?!(amp|lt|gt);)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
