// One line about a lag measurement, against the RPO when there is one.

import { formatDuration } from '../../duration.js';
import type { LagMeasurement } from '../../providers/types.js';

export function describeLag(lag: LagMeasurement, rpoSeconds: number | null): string {
  if (!lag.targetIsReplica) return lag.detail;
  const seconds = lag.lagSeconds === null ? 'unknown' : `${lag.lagSeconds.toFixed(1)} s`;
  const bytes = lag.lagBytes === null ? '' : ` (${lag.lagBytes} bytes)`;
  const verdict =
    rpoSeconds === null
      ? ''
      : lag.lagSeconds === null
        ? `: cannot compare with the RPO (${formatDuration(rpoSeconds)})`
        : lag.lagSeconds <= rpoSeconds
          ? ` — within the RPO (${formatDuration(rpoSeconds)})`
          : ` — OVER the RPO (${formatDuration(rpoSeconds)})`;
  const where = lag.primaryReachable
    ? ''
    : ', measured on the replica: the primary does not answer';
  const atLeast = lag.bound === 'lower-bound' && lag.lagSeconds !== null ? 'at least ' : '';
  return `lag ${atLeast}${seconds}${bytes}${verdict}${where}`;
}
