// http.check: request the service's health check URL and expect its status.

import { ProviderError } from '../../errors.js';
import type { Action, ActionContext } from '../types.js';

const noHealthCheck = (context: ActionContext): string | null =>
  context.service?.healthCheck
    ? null
    : `${context.service ? `Service ${context.service.name}` : 'This run'} has no health_check: in lifeboat.yml, so this step is skipped.`;

export const httpCheck: Action = {
  name: 'http.check',
  skipReason: noHealthCheck,
  plan: (context) =>
    context.service?.healthCheck
      ? `GET ${context.service.healthCheck.url} and expect HTTP ${context.service.healthCheck.expectStatus}. Read-only.`
      : (noHealthCheck(context) ?? ''),
  async run(context) {
    const check = context.service?.healthCheck;
    if (!check)
      throw new ProviderError(context.run.id, noHealthCheck(context) ?? 'no health check', true);
    const started = Date.now();
    let status: number;
    try {
      const response = await fetch(check.url, {
        signal: AbortSignal.timeout(check.timeoutSeconds * 1000),
        redirect: 'manual',
      });
      status = response.status;
      await response.body?.cancel();
    } catch (error) {
      throw new ProviderError(
        check.url,
        `no answer within ${check.timeoutSeconds} s: ${(error as Error).message}`,
        false,
        { cause: error },
      );
    }
    const ms = Date.now() - started;
    if (status !== check.expectStatus) {
      throw new ProviderError(
        check.url,
        `answered HTTP ${status}, expected ${check.expectStatus}`,
        false,
      );
    }
    return { summary: `${check.url} answered HTTP ${status} in ${ms} ms`, details: { status, ms } };
  },
};
