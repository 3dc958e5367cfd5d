// Which user groups a person is looked up in: only those that could admit them to something their
// Slack ID does not — so a listed approver is asked nothing to approve, yet a permission that
// names only a group admits the approvers in it.

import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { UserGroups } from '../../src/slack/usergroups.js';

function groupsOf(configYaml: string, members: Record<string, string[]>) {
  const asked: string[] = [];
  const client = {
    usergroups: {
      users: {
        list: ({ usergroup }: { usergroup: string }) => {
          asked.push(usergroup);
          return Promise.resolve({ ok: true, users: members[usergroup] ?? [] });
        },
      },
    },
  } as unknown as WebClient;
  const config = parseConfig(configYaml, '/srv/lifeboat/lifeboat.yml');
  return { usergroups: new UserGroups(client, config), asked };
}

describe('user groups', () => {
  it('admits a listed approver to a permission that names only a group they are in', async () => {
    const { usergroups, asked } = groupsOf(
      'approvals: { approvers: [U0ALICE, U0BOB], usergroup: S0APPROVE }\npermissions: { abort: [S0ONCALL] }\n',
      { S0ONCALL: ['U0BOB', 'U0DAVE'], S0APPROVE: ['U0DAVE'] },
    );
    expect(await usergroups.actorOf('U0BOB')).toEqual({
      user: 'U0BOB',
      via: 'slack',
      groups: ['S0ONCALL'],
    });
    expect(asked).toEqual(['S0ONCALL']); // never asked about the approvers' group: listed by ID
    expect((await usergroups.actorOf('U0DAVE')).groups).toEqual(['S0APPROVE', 'S0ONCALL']);
  });

  it('asks nothing about a listed approver when every list names them', async () => {
    const { usergroups, asked } = groupsOf(
      'approvals: { approvers: [U0ALICE, U0BOB], usergroup: S0APPROVE }\n',
      { S0APPROVE: ['U0BOB'] },
    );
    expect(await usergroups.actorOf('U0BOB')).toEqual({ user: 'U0BOB', via: 'slack', groups: [] });
    expect(asked).toEqual([]);
  });
});
