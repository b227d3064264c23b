/** Bounding how much of the build runs at once (downloads, package reads). */

/** At most `n` calls at once; a freed slot goes to the waiting call of highest `priority`. */
export function priorityLimiter(n: number): <R>(priority: number, fn: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: Array<{ priority: number; go: () => void }> = [];
  return async <R>(priority: number, fn: () => Promise<R>): Promise<R> => {
    if (active < n) active++;
    else {
      // (stable: equal priorities keep their order; the slot is handed over, not re-counted)
      await new Promise<void>((go) => {
        const at = waiting.findIndex((w) => w.priority < priority);
        waiting.splice(at < 0 ? waiting.length : at, 0, { priority, go });
      });
    }
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next.go();
      else active--;
    }
  };
}

/** At most `n` calls at once, in call order. */
export function limiter(n: number): <R>(fn: () => Promise<R>) => Promise<R> {
  const run = priorityLimiter(n);
  return (fn) => run(0, fn);
}

/**
 * Promise.all that waits for every promise to settle before it rejects with the first failure:
 * what the others still do (reading into the build's scratch file, writing a layer) is over
 * before the caller cleans up after them.
 */
export async function allSettledThenAll<T>(promises: Array<Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
