// Scheduled checks and reminders, posted to slack.channel. A reminder carries a button that starts
// the runbook it names (through the same confirmation as /dr for a failover or failback).

import type { WebClient } from '@slack/web-api';
import type { Notice, Notifier } from '../schedule/notifier.js';
import { ActionId } from './ids.js';
import { actions, button, section } from './blocks/kit.js';

export function createSlackNotifier(client: WebClient, channel: string): Notifier {
  return {
    async post(notice: Notice) {
      const blocks = [section(notice.text)];
      if (notice.startRunbook)
        blocks.push(
          actions(
            button(
              `Start ${notice.startRunbook}`,
              ActionId.reminderStart,
              notice.startRunbook,
              'primary',
            ),
          ),
        );
      await client.chat.postMessage({ channel, text: notice.text, blocks });
    },
  };
}
