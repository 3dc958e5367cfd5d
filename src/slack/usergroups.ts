// Membership of approvals.usergroup, from usergroups.users.list, cached briefly: an approval click
// must not wait on Slack more than once a minute, and a removal takes effect within that minute.

import type { WebClient } from '@slack/web-api';

export class UsergroupCache {
  private members: Set<string> | null = null;
  private fetchedAt = 0;

  constructor(
    private readonly client: WebClient,
    private readonly usergroup: string | null,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async isMember(user: string): Promise<boolean> {
    if (this.usergroup === null) return false;
    if (!this.members || this.now() - this.fetchedAt > this.ttlMs) {
      const result = await this.client.usergroups.users.list({ usergroup: this.usergroup });
      this.members = new Set(result.users ?? []);
      this.fetchedAt = this.now();
    }
    return this.members.has(user);
  }
}
