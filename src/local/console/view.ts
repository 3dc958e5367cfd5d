// What one person sees in the console's channel: the messages everyone sees, the ephemeral ones
// meant for them, each thread under its first message, and their open modal and App Home. Pure
// functions of the workspace, rendered with block-html.ts.

import { mrkdwnToHtml, renderBlocks, renderModal, type NameOf } from './block-html.js';
import { escapeHtml } from '../../html.js';
import { BOT, type Message, type Workspace } from './workspace.js';

export interface PersonView {
  version: number;
  channel: string;
  modal: { id: string; hash: string; html: string; errors: Record<string, string> } | null;
  home: string | null;
}

export function viewFor(workspace: Workspace, person: string): PersonView {
  const names: NameOf = (id) => nameOf(workspace, id);
  const visible = workspace.messages.filter((m) => !m.onlyFor || m.onlyFor === person);
  const replies = new Map<string, Message[]>();
  for (const message of visible) {
    if (!message.threadTs) continue;
    replies.set(message.threadTs, [...(replies.get(message.threadTs) ?? []), message]);
  }
  const channel = visible
    .filter((message) => !message.threadTs)
    .map((message) => renderMessage(message, replies.get(message.ts) ?? [], names))
    .join('\n');
  const modal = workspace.modals.get(person);
  const home = workspace.homes.get(person);
  return {
    version: workspace.version,
    channel,
    modal: modal
      ? {
          id: modal.id,
          hash: modal.hash,
          html: renderModal(modal.view, names),
          errors: modal.errors,
        }
      : null,
    home: home ? renderBlocks(home.blocks, names) : null,
  };
}

function renderMessage(message: Message, replies: Message[], names: NameOf): string {
  const classes = ['message'];
  if (message.from === BOT.userId) classes.push('bot');
  if (message.onlyFor) classes.push('ephemeral');
  const thread = replies.length
    ? `<div class="thread"><div class="thread-count">${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}</div>${replies
        .map((reply) => renderMessage(reply, [], names))
        .join('\n')}</div>`
    : '';
  return [
    `<article class="${classes.join(' ')}" data-ts="${escapeHtml(message.ts)}">`,
    `<div class="meta"><span class="author">${escapeHtml(names(message.from))}</span>`,
    message.from === BOT.userId ? '<span class="badge">APP</span>' : '',
    `<time>${clockOf(message.ts)}</time>`,
    message.edited ? '<span class="edited">(edited)</span>' : '',
    message.onlyFor
      ? `<span class="only-you">Only visible to you${message.inReplyTo ? ` · ${escapeHtml(message.inReplyTo)}` : ''}</span>`
      : '',
    '</div>',
    `<div class="body">${message.blocks?.length ? renderBlocks(message.blocks, names) : mrkdwnToHtml(message.text, names)}</div>`,
    thread,
    '</article>',
  ].join('');
}

/** The bot's and each person's name, as Slack shows them; an unknown id stays an id. */
function nameOf(workspace: Workspace, id: string): string {
  if (id === BOT.userId) return BOT.name;
  return workspace.people.find((person) => person.id === id)?.name ?? id;
}

/** HH:MM:SS UTC of a Slack ts. */
function clockOf(ts: string): string {
  return new Date(Number(ts.split('.')[0]) * 1000).toISOString().slice(11, 19);
}
