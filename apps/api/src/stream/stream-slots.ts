import { DomainError } from '@app/shared';

/**
 * Open event streams of this API process: at most `perCaller` for one caller (a browser with
 * a few tabs) and `total` in all (STREAM_MAX_PER_CALLER, STREAM_MAX_TOTAL); one more → 429
 * RATE_LIMITED. A slot is taken before the stream starts and given back, once, when it ends.
 */
export class StreamSlots {
  private readonly byCaller = new Map<string, number>();
  private open = 0;

  constructor(
    private readonly perCaller: number,
    private readonly total: number,
  ) {}

  get size(): number {
    return this.open;
  }

  /** Takes a slot for `caller`; the function returned gives it back (idempotent). */
  take(caller: string): () => void {
    const mine = this.byCaller.get(caller) ?? 0;
    if (mine >= this.perCaller) {
      throw new DomainError(
        'RATE_LIMITED',
        `at most ${this.perCaller} open event streams per caller; close one first`,
      );
    }
    if (this.open >= this.total) {
      throw new DomainError('RATE_LIMITED', 'too many open event streams; retry later');
    }
    this.byCaller.set(caller, mine + 1);
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      const left = (this.byCaller.get(caller) ?? 1) - 1;
      if (left > 0) this.byCaller.set(caller, left);
      else this.byCaller.delete(caller);
    };
  }
}
