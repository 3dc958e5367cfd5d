// `lifeboat keygen` and `lifeboat approve-token`: on an approver's own machine, the key that signs
// approvals, and the token for one pending request. Neither needs the config or the store.

import { readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { generateApproverKey, readChallenge, signChallenge } from './approval-token.js';
import type { Io } from './io.js';

export function makeKey(options: { user: string; out: string }, io: Io): number {
  if (!/^[UW][A-Z0-9]{2,}$/.test(options.user))
    throw new UsageError(`--user ${options.user} is not a Slack user ID like U0BOB`);
  const { keyFile, publicKey } = generateApproverKey(options.user);
  try {
    writeFileSync(options.out, keyFile, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new UsageError(`cannot write ${options.out}: ${(error as Error).message}`);
  }
  io.out(`private key written to ${options.out} (keep it to yourself)`);
  io.out('add this to lifeboat.yml on the break-glass host, under approvals.keys:');
  io.out(`  ${options.user}: ${publicKey}`);
  return 0;
}

export function makeToken(challenge: string, options: { key: string }, io: Io): number {
  let keyFile: string;
  try {
    keyFile = readFileSync(options.key, 'utf8');
  } catch {
    throw new UsageError(`cannot read the key file ${options.key}`);
  }
  const what = readChallenge(challenge);
  io.out(
    `signing approval ${what.approval} of run ${what.run}: step ${what.step + 1}, attempt ${what.attempt}, plan ${what.plan.slice(0, 16)}…, until ${what.expires}`,
  );
  io.out(signChallenge(challenge, keyFile));
  return 0;
}
