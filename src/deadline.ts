// A bound on how long anything may take: in a disaster the far side may accept a connection and
// then never answer, and a DR tool must not wait on it.

/** `work`, or a rejection with `message` once `ms` have passed. The timer never keeps the process up. */
export function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  message = `no answer within ${ms} ms`,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
