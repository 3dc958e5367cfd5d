// What a pair of database nodes adds up to: one writer with a replica following it (protected),
// a writer nothing follows (unprotected), both accepting writes (TWO PRIMARIES), or none. What the
// replication check records, local mode's panel shows and a backup decides which node to dump by.

import type { NodeName, NodeProbe } from '../../providers/types.js';
import type { ProtectionState } from '../../store/protection.js';

/** What the two nodes add up to. Pure. */
export function classifyNodes(
  primary: NodeProbe,
  replica: NodeProbe,
): { state: ProtectionState; writer: NodeName | null; detail: string } {
  const writers = [primary, replica].filter((node) => node.role === 'writable');
  if (writers.length === 2)
    return {
      state: 'two-primaries',
      writer: null,
      detail: `both ${primary.name} and ${replica.name} accept writes`,
    };
  const writer = writers[0];
  if (!writer)
    return { state: 'no-writer', writer: null, detail: `${primary.detail}; ${replica.detail}` };
  const other = writer === primary ? replica : primary;
  const follows =
    other.role === 'standby' &&
    other.streaming &&
    (other.streamingFrom === writer.node || other.streamingFrom === null);
  return follows
    ? { state: 'protected', writer: writer.node, detail: other.detail }
    : {
        state: 'unprotected',
        writer: writer.node,
        detail: `no replica follows ${writer.name}: ${other.detail}`,
      };
}
