// db.promote: promote the replica to a standalone primary. Idempotent: a target that is already
// primary is success. The engine has already passed the approval and RPO gates.

import { needDatabase } from '../need.js';
import type { Action } from '../types.js';

export const promote: Action = {
  name: 'db.promote',
  plan: (context) =>
    `Promote ${context.providers.database?.targetName ?? 'the replica'} to a standalone primary. ` +
    'One-way: the old primary must be rebuilt as a replica before failing back.',
  async run(context) {
    const database = needDatabase(context);
    await database.preflight();
    const result = await database.promote();
    return { summary: result.detail, details: { alreadyPrimary: result.alreadyPrimary } };
  },
  async verify(context) {
    const isPrimary = await needDatabase(context).isTargetPrimary();
    return isPrimary
      ? { ok: true, summary: `${needDatabase(context).targetName} is a primary` }
      : {
          ok: false,
          summary: `${needDatabase(context).targetName} is still a replica after promotion`,
        };
  },
};
