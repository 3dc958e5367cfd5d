// Where scheduled jobs post. The Slack adapter implements it; the core never imports Slack.

import type { PageAlert } from '../paging/alert.js';

export interface Notice {
  text: string;
  /** What to page about, besides posting the text (a failing check, TWO PRIMARIES). */
  alert?: PageAlert;
  /** A runbook the notice offers to start (DR-test reminders). */
  startRunbook?: string;
}

export interface Notifier {
  post(notice: Notice): Promise<void>;
}
