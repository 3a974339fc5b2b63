/** An outbox id skipped over is asked for again for at most this long (ms). */
export const GAP_WAIT_MS = 30_000;

/**
 * Where a reader of the outbox stands: the highest id it has seen, and the ids below it it has
 * not seen yet. Sequence values are taken at insert and committed in any order, so an id below
 * the cursor can still appear: ids skipped over are remembered and asked for again for
 * GAP_WAIT_MS (a rolled-back insert leaves a gap that never fills). A huge jump is a sequence
 * jump, not open transactions: at most `maxGap` ids are remembered per step.
 */
export class FeedCursor {
  private readonly missing = new Map<number, number>();

  constructor(
    private afterId: number,
    private readonly maxGap = 1000,
  ) {}

  /** The highest outbox id seen. */
  get position(): number {
    return this.afterId;
  }

  /** The ids below the position still awaited. */
  get awaited(): number[] {
    return [...this.missing.keys()];
  }

  /** Takes the ids one read returned (ascending), at `nowMs`; forgets gaps older than GAP_WAIT_MS. */
  advance(ids: readonly number[], nowMs: number): void {
    let cursor = this.afterId;
    for (const id of ids) {
      if (this.missing.delete(id) || id <= cursor) continue;
      for (let g = cursor + 1; g < id && g - cursor <= this.maxGap; g++) this.missing.set(g, nowMs);
      cursor = id;
    }
    this.afterId = cursor;
    for (const [id, since] of this.missing) {
      if (nowMs - since > GAP_WAIT_MS) this.missing.delete(id);
    }
  }
}
