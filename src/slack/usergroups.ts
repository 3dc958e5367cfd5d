// Which of the configured user groups (approvals.usergroup, and S… entries in permissions) a person
// belongs to, from usergroups.users.list, cached briefly: a click must not wait on Slack more than
// once a minute per group, and a removal takes effect within that minute. Only the groups that
// could admit the person to something their ID does not are asked about, and a lookup that fails
// or is slow counts as "not a member" (with a warning): a Slack outage never blocks a person
// listed by ID.

import type { WebClient } from '@slack/web-api';
import type { Config } from '../config.js';
import { withTimeout } from '../deadline.js';
import type { Actor } from '../engine/core.js';
import type { Logger } from '../log.js';

export class UserGroups {
  private readonly members = new Map<string, { users: Set<string>; fetchedAt: number }>();
  /** The lists a group can admit someone to: the approvers (with their group) and each permission. */
  private readonly lists: readonly (readonly string[])[];

  constructor(
    private readonly client: WebClient,
    private readonly config: Config,
    private readonly options: {
      logger?: Logger;
      ttlMs?: number;
      timeoutMs?: number;
      now?: () => number;
    } = {},
  ) {
    this.lists = [
      [
        ...config.approvals.approvers,
        ...(config.approvals.usergroup ? [config.approvals.usergroup] : []),
      ],
      ...Object.values(config.permissions),
    ];
  }

  /** The actor for a Slack user: their ID, `slack`, and the configured groups they are in. */
  async actorOf(user: string): Promise<Actor> {
    const groups: string[] = [];
    for (const group of this.groupsThatMatter(user))
      if (await this.isMember(group, user)) groups.push(group);
    return { user, via: 'slack', groups };
  }

  /**
   * The actor as far as the cache knows without asking Slack, or undefined when a group that
   * matters must be asked first: what a listener may use before its ack.
   */
  cachedActorOf(user: string): Actor | undefined {
    const groups: string[] = [];
    for (const group of this.groupsThatMatter(user)) {
      const cached = this.fresh(group);
      if (!cached) return undefined;
      if (cached.has(user)) groups.push(group);
    }
    return { user, via: 'slack', groups };
  }

  private fresh(group: string): Set<string> | undefined {
    const cached = this.members.get(group);
    const now = (this.options.now ?? Date.now)();
    return cached && now - cached.fetchedAt <= (this.options.ttlMs ?? 60_000)
      ? cached.users
      : undefined;
  }

  /**
   * The groups worth asking Slack about for `user`: those named in a list that does not already
   * admit them by ID (or `*`). A listed approver is asked nothing for approving — but still for a
   * permission that names only a group (`abort: [S0ONCALL]`).
   */
  private groupsThatMatter(user: string): string[] {
    const groups = new Set<string>();
    for (const list of this.lists) {
      if (list.includes('*') || list.includes(user)) continue;
      for (const id of list) if (id.startsWith('S')) groups.add(id);
    }
    return [...groups];
  }

  private async isMember(group: string, user: string): Promise<boolean> {
    const cached = this.fresh(group);
    if (cached) return cached.has(user);
    const now = (this.options.now ?? Date.now)();
    try {
      const users = await withTimeout(
        this.client.usergroups.users.list({ usergroup: group }),
        this.options.timeoutMs ?? 1500,
      );
      this.members.set(group, { users: new Set(users.users ?? []), fetchedAt: now });
      return (users.users ?? []).includes(user);
    } catch (error) {
      this.options.logger?.warn(
        { err: error, usergroup: group, user },
        'could not read the user group: counting only people listed by ID',
      );
      return false;
    }
  }
}
