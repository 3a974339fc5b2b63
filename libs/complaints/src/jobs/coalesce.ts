/**
 * Calls made in the same turn of the event loop share one call of `flush`, made once that turn's
 * I/O callbacks have run (setImmediate): under load, tickets whose writes completed together
 * schedule their deadline jobs in one Redis round trip (one BullMQ addBulk) instead of one each.
 * Every caller's promise settles with that shared flush, so a caller still knows its items were
 * handed over when it resumes. An idle process adds no delay beyond the setImmediate.
 */
export function coalesce<T>(
  flush: (items: T[]) => Promise<void>,
): (items: readonly T[]) => Promise<void> {
  let batch: T[] | null = null;
  let flushed: Promise<void> = Promise.resolve();
  return (items) => {
    if (!batch) {
      const mine: T[] = [];
      batch = mine;
      flushed = new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          batch = null;
          flush(mine).then(resolve, reject);
        });
      });
    }
    batch.push(...items);
    return flushed;
  };
}
