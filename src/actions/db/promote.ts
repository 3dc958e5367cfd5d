// db.promote: promote the replica to a standalone primary. The engine has already passed the fence,
// approval and RPO gates. Only a standby is promoted: a target that already accepts writes counts
// as promoted only when an earlier attempt of this step may have done it (a resumed crash, a
// retry); otherwise it is a second primary, and lifeboat says so instead of calling it success.
// A DNS switch later in the run that could only fail is found before this one-way step.

import { ProviderError } from '../../errors.js';
import { needDatabase } from '../need.js';
import type { Action, ActionContext } from '../types.js';

export const promote: Action = {
  name: 'db.promote',
  plan: (context) =>
    context.providers.database?.describePromotion?.() ??
    `Promote ${context.providers.database?.targetName ?? 'the replica'} to a standalone primary. ` +
      'One-way: the old primary must be rebuilt as a replica before failing back.',
  async run(context) {
    const database = needDatabase(context);
    const target = await database.probe(database.target);
    if (target.role === 'fenced')
      throw new ProviderError(
        database.targetName,
        `is a fenced former primary, not a standby: rebuild it as a replica of ${database.sourceName} first (db.rebuild-replica), then promote it`,
        true,
      );
    if (target.role === 'writable' && context.attempt === 1)
      throw new ProviderError(
        database.targetName,
        `already accepts writes and is no standby: promoting it would not make it follow ${database.sourceName}'s data. If it was promoted outside lifeboat, skip this step with a reason; if it is an old primary, rebuild it as a replica first`,
        true,
      );
    await database.preflight();
    await checkDnsFirst(context);
    const result = await database.promote({ onProgress: context.progress });
    // Only words for the protection record: a short look (the old primary's region may hang).
    const source = await database.probe(database.source, 'status');
    return {
      summary: result.detail,
      details: { alreadyPrimary: result.alreadyPrimary },
      protection: {
        state: 'unprotected',
        writer: database.target,
        detail: `no replica follows ${database.targetName} since its promotion (${source.detail})`,
      },
    };
  },
  async verify(context) {
    const database = needDatabase(context);
    return (await database.isTargetPrimary())
      ? { ok: true, summary: `${database.targetName} is a primary` }
      : { ok: false, summary: `${database.targetName} is still a replica after promotion` };
  },
};

/**
 * The run switches DNS after this promotion: a zone that does not exist or a permission that is
 * missing would fail it for good, after the point of no return — so it stops the promotion now.
 * A DNS API that does not answer (Route 53's control plane is in us-east-1) does not: the
 * promotion must not wait on the failed region, and the DNS step says what it finds then.
 */
async function checkDnsFirst(context: ActionContext): Promise<void> {
  const dns = context.providers.dns;
  if (!dns || !context.later('dns.switch')) return;
  try {
    await dns.check();
  } catch (error) {
    if (!(error instanceof ProviderError) || !error.permanent) return;
    throw new ProviderError(
      error.resource,
      `${error.reason} — the DNS switch after this promotion could only fail, so nothing was promoted: fix dns: in lifeboat.yml and retry this step`,
      true,
      { cause: error },
    );
  }
}
