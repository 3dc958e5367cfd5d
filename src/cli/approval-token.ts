// Signed approvals, for when the second person is not on the break-glass host: the host shows a
// challenge naming the pending request (run, approval, step, attempt, plan hash, expiry); the
// approver signs it on their own machine with their Ed25519 key (`lifeboat approve-token`); the
// token pasted back on the host is verified against the public key in approvals.keys. Only
// node:crypto; a token is good for that one request, that plan, until it expires.

import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import type { Config } from '../config.js';
import { GateRefused, UsageError } from '../errors.js';
import type { ApprovalRecord } from '../store/approvals.js';

export interface Challenge {
  run: string;
  approval: string;
  step: number;
  attempt: number;
  plan: string;
  expires: string;
}

/** What the host shows for a pending request: all a signature must bind, and nothing secret. */
export function challengeFor(approval: ApprovalRecord): string {
  const challenge: Challenge = {
    run: approval.runId,
    approval: approval.id,
    step: approval.stepIndex,
    attempt: approval.attempt,
    plan: approval.planHash ?? '',
    expires: approval.expiresAt,
  };
  return Buffer.from(JSON.stringify(challenge)).toString('base64url');
}

export function readChallenge(text: string): Challenge {
  let parsed: Partial<Challenge>;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Challenge>;
  } catch {
    throw new UsageError(
      'that is not an approval challenge (copy it whole from `lifeboat run status`)',
    );
  }
  const { run, approval, step, attempt, plan, expires } = parsed;
  if (
    typeof run !== 'string' ||
    typeof approval !== 'string' ||
    typeof step !== 'number' ||
    typeof attempt !== 'number' ||
    typeof plan !== 'string' ||
    typeof expires !== 'string'
  )
    throw new UsageError(
      'that is not an approval challenge (copy it whole from `lifeboat run status`)',
    );
  return { run, approval, step, attempt, plan, expires };
}

/** A new key pair: the file to keep (private, 0600) and the line for approvals.keys. */
export function generateApproverKey(user: string): { keyFile: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    keyFile: JSON.stringify(
      { user, privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() },
      null,
      2,
    ),
    publicKey: publicKeyText(publicKey),
  };
}

/** On the approver's machine: the token for `challenge`, signed with their key file. */
export function signChallenge(challenge: string, keyFileText: string): string {
  readChallenge(challenge);
  let key: { user: string; privateKey: KeyObject };
  try {
    const parsed = JSON.parse(keyFileText) as { user?: unknown; privateKey?: unknown };
    if (typeof parsed.user !== 'string' || typeof parsed.privateKey !== 'string') throw new Error();
    key = { user: parsed.user, privateKey: createPrivateKey(parsed.privateKey) };
  } catch {
    throw new UsageError('the key file is not one `lifeboat keygen` wrote');
  }
  const signature = sign(null, message(challenge, key.user), key.privateKey).toString('base64url');
  return `${challenge}.${key.user}.${signature}`;
}

/**
 * On the host: the approver a token proves, and the request it is for. Refused (GateRefused, so
 * the engine audits it) when the signature, the approver's key, or the expiry does not hold.
 */
export function verifyToken(
  token: string,
  config: Config,
  now: Date,
): { user: string; challenge: Challenge } {
  const [challengeText = '', user = '', signature = '', ...rest] = token.trim().split('.');
  if (rest.length > 0 || !challengeText || !user || !signature)
    throw new GateRefused('token', 'that is not an approval token (challenge.user.signature)');
  const challenge = readChallenge(challengeText);
  const keyText = config.approvals.keys[user];
  if (!keyText)
    throw new GateRefused(
      'token',
      `${user} has no key in approvals.keys: a signed approval needs their public key in lifeboat.yml`,
    );
  const valid = verify(
    null,
    message(challengeText, user),
    publicKeyOf(keyText),
    Buffer.from(signature, 'base64url'),
  );
  if (!valid)
    throw new GateRefused(
      'token',
      `the token's signature is not ${user}'s: it was not signed with their key, or was changed`,
    );
  if (now.getTime() > Date.parse(challenge.expires))
    throw new GateRefused(
      'token',
      `the token's request expired at ${challenge.expires}: ask for approval again`,
    );
  return { user, challenge };
}

function message(challenge: string, user: string): Buffer {
  return Buffer.from(`lifeboat approval v1\n${challenge}\n${user}`);
}

function publicKeyText(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  return `ed25519:${jwk.x}`;
}

function publicKeyOf(text: string): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: text.slice('ed25519:'.length) },
    format: 'jwk',
  });
}
