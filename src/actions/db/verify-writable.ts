// db.verify-writable: write a row in a lifeboat-owned table on the promoted database and read it
// back. Writing the same token again after a crash is harmless.

import { needDatabase } from '../need.js';
import type { Action } from '../types.js';

export const verifyWritable: Action = {
  name: 'db.verify-writable',
  plan: (context) =>
    `Write one row to lifeboat.write_checks on ${context.providers.database?.targetName ?? 'the promoted database'} and read it back.`,
  async run(context) {
    const token = `${context.run.id}/${context.step.index}`;
    const result = await needDatabase(context).verifyWritable(token);
    return { summary: result.detail, details: { token } };
  },
};
