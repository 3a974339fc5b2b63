/**
 * Runs `round` again until one handled fewer than a full `batch` (nothing more due and
 * unlocked), and returns the counts of all rounds added up, key by key.
 */
export async function roundsUntilShort<R extends { [K in keyof R]: number }>(
  batch: number,
  round: () => Promise<R>,
  handled: (r: R) => number,
): Promise<R> {
  const total = { ...(await round()) };
  let last: R = total;
  while (handled(last) >= batch) {
    last = await round();
    for (const key of Object.keys(last) as (keyof R)[]) {
      total[key] = (total[key] + last[key]) as R[keyof R];
    }
  }
  return total;
}

/**
 * At most `max` runs at once in this process: `tryRun` starts `work` when a slot is free and
 * answers `null` at once, without running it, when all are taken.
 */
export class InFlightLimit {
  private running = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.running;
  }

  async tryRun<T>(work: () => Promise<T>): Promise<T | null> {
    if (this.running >= this.max) return null;
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
    }
  }
}
