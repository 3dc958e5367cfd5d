// The instance that dies in bench/takeover.ts: starts a run, says WALKING once its action has
// started, and is killed with SIGKILL by the parent mid-action.
// Usage: node --import tsx bench/takeover-walker.ts CONFIG

import { loadConfig } from '../src/config.js';
import { createEngine } from '../src/engine/create.js';

const config = loadConfig({ LIFEBOAT_CONFIG: process.argv[2] });
const engine = await createEngine(config);
engine.on((event) => {
  if (event.type === 'action.started') process.stdout.write('WALKING\n');
});
await engine.startRun({ key: 'takeover', actor: { user: 'U0ALICE' }, runbook: 'hold' });
await engine.idle();
