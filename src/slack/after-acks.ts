// What a listener does after its ack waits its turn behind the requests not yet acked. Slack
// gives every request 3 s to be acknowledged; the work after an ack (a status probe, an engine
// call, an answer through response_url) has no such limit. Node serves every request that has
// arrived in one turn of its event loop, and runs one waiting job between turns: a burst of
// requests is acked first, and a job that waits behind it waits a few turns, not a few seconds.

/** Resolves when this job's turn comes: one job per turn of the event loop, first come first. */
export type AfterAcks = () => Promise<void>;

export function createAfterAcks(): AfterAcks {
  const waiting: (() => void)[] = [];
  let scheduled = false;
  const runOne = () => {
    // Resolving runs the job up to its first await (its microtasks) before this turn ends.
    waiting.shift()?.();
    if (waiting.length > 0) setImmediate(runOne);
    else scheduled = false;
  };
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (!scheduled) {
        scheduled = true;
        setImmediate(runOne);
      }
    });
}
