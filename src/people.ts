// People as the engine knows them — Slack user IDs — and as each reader should see them: Slack
// mentions them (mrkdwn.ts), a terminal names their OS account from `cli.users` — and the OS
// account the break-glass CLI acts for.

import { userInfo } from 'node:os';

/**
 * A Slack user ID (U…/W… with a digit in it: never a word like UNPROTECTED) standing alone in a
 * sentence the engine wrote ("U0MALLORY may not approve …"), not inside a mention or a run id.
 */
export const USER_ID = /(?<![@\w-])[UW](?=[A-Z0-9]*\d)[A-Z0-9]{3,}\b/g;

/**
 * How a terminal names a person: their OS account from `cli.users` beside the Slack ID
 * ("alice (U0ALICE)"), or the ID alone when cli.users does not know it.
 */
export function cliPersonName(cliUsers: Record<string, string>): (id: string) => string {
  const accountOf = new Map(Object.entries(cliUsers).map(([account, id]) => [id, account]));
  return (id) => {
    const account = accountOf.get(id);
    return account === undefined ? id : `${account} (${id})`;
  };
}

/** Every user ID in an engine sentence, named for a terminal: "alice (U0ALICE) may not …". */
export function cliPeopleNamed(cliUsers: Record<string, string>): (text: string) => string {
  const personName = cliPersonName(cliUsers);
  return (text) => text.replace(USER_ID, personName);
}

export interface OsIdentity {
  uid: number;
  username: string;
}

export function currentOsIdentity(): OsIdentity {
  const info = userInfo();
  return { uid: info.uid, username: info.username };
}

/** The OS account a person is: SUDO_USER when root runs us under sudo, else the real one. */
export function osAccountOf(identity: OsIdentity, env: Record<string, string | undefined>): string {
  if (identity.uid === 0 && env.SUDO_USER && env.SUDO_USER !== 'root') return env.SUDO_USER;
  return identity.username;
}
