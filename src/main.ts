// `npm start`: run the startup checks; a bad config, a broken runbook, a store from a newer
// lifeboat or a tampered audit log stops the start with one line saying why.

import { isLifeboatError } from './errors.js';
import { createLogger } from './log.js';
import { checkReadiness } from './readiness.js';
import { VERSION } from './version.js';

function main(): number {
  try {
    const { problems, lines } = checkReadiness(process.env, new Date());
    console.log(`lifeboat ${VERSION}: startup checks`);
    for (const line of lines) console.log(`  ${line}`);
    if (problems.length > 0) {
      for (const problem of problems) console.error(problem);
      console.error(`lifeboat: not starting: ${problems.length} problem(s) above`);
      return 1;
    }
    console.log(
      'ready. Slack and the local console are not part of this build yet: use the `lifeboat` CLI.',
    );
    return 0;
  } catch (error) {
    if (isLifeboatError(error)) {
      console.error(`lifeboat: not starting: ${error.message}`);
      return 1;
    }
    createLogger().error({ err: error }, 'internal error at start');
    return 2;
  }
}

process.exitCode = main();
