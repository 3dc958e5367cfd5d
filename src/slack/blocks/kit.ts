// Small builders for the Block Kit we use: pure data, no I/O.

export { clip, escape, mention, mentionIds, outcomeText, slackTime } from '../../mrkdwn.js';

export interface Block {
  type: string;
  [key: string]: unknown;
}

export const section = (text: string): Block => ({
  type: 'section',
  text: { type: 'mrkdwn', text: text.slice(0, 3000) },
});
export const context = (...texts: string[]): Block => ({
  type: 'context',
  elements: texts.map((text) => ({ type: 'mrkdwn', text: text.slice(0, 3000) })),
});
export const divider = (): Block => ({ type: 'divider' });
export const header = (text: string): Block => ({
  type: 'header',
  text: { type: 'plain_text', text: text.slice(0, 150) },
});
export const actions = (...elements: Record<string, unknown>[]): Block => ({
  type: 'actions',
  elements,
});

export function button(
  text: string,
  actionId: string,
  value: string,
  style?: 'primary' | 'danger',
): Record<string, unknown> {
  return {
    type: 'button',
    text: { type: 'plain_text', text },
    action_id: actionId,
    value,
    ...(style ? { style } : {}),
  };
}
