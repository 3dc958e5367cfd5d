// Action names -> implementations: exactly the names the runbook parser accepts.

import type { ActionName } from '../runbook/action-names.js';
import { copySnapshot } from './backup/copy-snapshot.js';
import { backupTake } from './backup/take.js';
import { backupVerify } from './backup/verify.js';
import { catchUp } from './db/catch-up.js';
import { checkLag } from './db/check-lag.js';
import { fence } from './db/fence.js';
import { rebuildReplica, verifyReplica } from './db/replica.js';
import { promote } from './db/promote.js';
import { restore } from './db/restore.js';
import { scaleUp } from './db/scale-up.js';
import { verifyWritable } from './db/verify-writable.js';
import { dnsSwitch } from './dns/switch.js';
import { dnsVerify } from './dns/verify.js';
import { announce } from './misc/announce.js';
import { appScaleUp } from './misc/app-scale-up.js';
import { httpCheck } from './misc/http-check.js';
import { notify } from './misc/notify.js';
import { wait } from './misc/wait.js';
import { httpAction } from './custom/http.js';
import { lambdaAction } from './custom/lambda.js';
import { runAction } from './custom/run.js';
import type { Action } from './types.js';

export type ActionRegistry = Record<ActionName, Action>;

export const ACTIONS: ActionRegistry = {
  'db.check-lag': checkLag,
  'db.fence': fence,
  'db.catch-up': catchUp,
  'db.promote': promote,
  'db.restore': restore,
  'db.scale-up': scaleUp,
  'db.verify-writable': verifyWritable,
  'db.rebuild-replica': rebuildReplica,
  'db.verify-replica': verifyReplica,
  'dns.switch': dnsSwitch,
  'dns.verify': dnsVerify,
  'backup.take': backupTake,
  'backup.copy-snapshot': copySnapshot,
  'backup.verify': backupVerify,
  'app.scale-up': appScaleUp,
  'http.check': httpCheck,
  wait,
  notify,
  run: runAction,
  http: httpAction,
  lambda: lambdaAction,
  announce,
};
