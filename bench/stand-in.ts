// The Slack Web API stand-in in a process of its own, so a benchmark does not count its work
// against the app it measures. Prints its URL, then serves until killed.

import { startSlackStandIn } from '../test/support/slack.js';

const standIn = await startSlackStandIn();
process.stdout.write(`${standIn.url}\n`);
setInterval(() => standIn.calls.splice(0), 1000); // keep memory flat over long runs
