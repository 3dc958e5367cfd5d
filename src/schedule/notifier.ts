// Where scheduled jobs post. The Slack adapter implements it; the core never imports Slack.

export interface Notice {
  text: string;
  /** A runbook the notice offers to start (DR-test reminders). */
  startRunbook?: string;
}

export interface Notifier {
  post(notice: Notice): Promise<void>;
}
