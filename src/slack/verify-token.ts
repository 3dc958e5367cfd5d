// The bot token, checked before lifeboat serves anyone: auth.test, retried with backoff while
// Slack does not answer (a Slack outage at start-up must not crash the process), refused at once
// when Slack answers that the token is wrong. Bolt's own check in its constructor is switched off:
// it cannot be retried and its failure is an unhandled rejection.

import { WebClient, type WebAPICallResult } from '@slack/web-api';
import { ConfigError, ProviderError } from '../errors.js';
import type { Logger } from '../log.js';

export interface TokenCheckOptions {
  attempts?: number;
  /** The first wait; each next one doubles, capped at 30 s. */
  firstDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Errors Slack answers when the token itself is wrong: retrying changes nothing. */
const REFUSED = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
]);

/**
 * Who the bot is, as auth.test answered at start. Bolt needs it on every request; without it
 * Bolt asks Slack again (auth.test) before each ack — a round trip to Slack inside every answer.
 */
export interface SlackBot {
  botUserId: string | undefined;
  botId: string | undefined;
}

export async function verifySlackToken(
  token: string,
  apiUrl: string | null,
  logger: Logger | undefined,
  options: TokenCheckOptions = {},
): Promise<SlackBot> {
  const client = new WebClient(token, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    retryConfig: { retries: 0 },
    timeout: 10_000,
  });
  const attempts = options.attempts ?? 8;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  let delayMs = options.firstDelayMs ?? 1000;
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const result = (await client.auth.test()) as WebAPICallResult & {
        user_id?: string;
        bot_id?: string;
      };
      return { botUserId: result.user_id, botId: result.bot_id };
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error;
      if (code && REFUSED.has(code))
        throw new ConfigError(
          'SLACK_BOT_TOKEN',
          `Slack refused it (${code}): take the bot token (xoxb-…) again from the app's Install App page`,
        );
      lastError = (error as Error).message;
      if (attempt === attempts) break;
      logger?.warn(
        { attempt, attempts, retryInMs: delayMs, err: error },
        'Slack did not answer auth.test: retrying',
      );
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 30_000);
    }
  }
  throw new ProviderError(
    'Slack',
    `did not answer auth.test after ${attempts} attempts (${lastError}): is the network up, and SLACK_API_URL right if set? lifeboat serves nobody until Slack answers`,
    false,
  );
}
