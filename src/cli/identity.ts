// Who the break-glass CLI acts for: the OS account that runs it, mapped to a Slack user ID by
// cli.users. Never a claim typed on the command line: `--as` may only repeat the caller's own
// mapping. Under sudo the person is SUDO_USER (root could be anyone anyway); root without a
// mapping is refused.

import type { Config } from '../config.js';
import type { Actor } from '../engine/core.js';
import { UsageError } from '../errors.js';
import { osAccountOf, type OsIdentity } from '../people.js';

export { currentOsIdentity, osAccountOf, type OsIdentity } from '../people.js';

export function cliActor(
  config: Config,
  identity: OsIdentity,
  env: Record<string, string | undefined>,
  as: string | undefined,
): Actor {
  const account = osAccountOf(identity, env);
  const user = config.cliUsers[account];
  if (!user) {
    throw new UsageError(
      account === 'root'
        ? 'root has no entry in cli.users: run lifeboat as your own account (or with sudo, which names you), so the audit log says who acted'
        : `the OS account "${account}" has no entry in cli.users: add "${account}: U…" (your Slack user ID) to lifeboat.yml to act from this account`,
    );
  }
  if (as !== undefined && as !== user) {
    throw new UsageError(
      `--as ${as} is not you: the OS account "${account}" is ${user} in cli.users (a second person approves from their own account, or with a signed token)`,
    );
  }
  return { user, via: `cli:${account}` };
}
