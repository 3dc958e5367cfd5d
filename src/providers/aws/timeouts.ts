// How long any AWS call may take: a region that accepts connections and never answers is the
// disaster lifeboat exists for, so no call waits on it forever. The API calls (RDS, CloudWatch,
// Route 53, ARC) give up on a connection after connectMs and on an answer after requestMs; S3,
// whose downloads of large dumps take long but never stand still, gives up on a connection after
// connectMs and on a socket silent for streamIdleMs. A timeout is a TimeoutError the retry layer
// retries (retry.ts) and then reports, naming the resource and its region.

export interface AwsTimeouts {
  connectMs: number;
  requestMs: number;
  streamIdleMs: number;
}

export const DEFAULT_AWS_TIMEOUTS: AwsTimeouts = {
  connectMs: 3_000,
  requestMs: 10_000,
  streamIdleMs: 30_000,
};

/** The request handler options of an API client (RDS, CloudWatch, Route 53, ARC). */
export function apiHandler(timeouts: AwsTimeouts = DEFAULT_AWS_TIMEOUTS) {
  return {
    connectionTimeout: timeouts.connectMs,
    requestTimeout: timeouts.requestMs,
    // Without it, newer SDKs only warn when requestTimeout passes, and wait on.
    throwOnRequestTimeout: true,
  };
}

/** The request handler options of the S3 client: bounded connect, bounded silence. */
export function streamHandler(timeouts: AwsTimeouts = DEFAULT_AWS_TIMEOUTS) {
  return { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.streamIdleMs };
}
