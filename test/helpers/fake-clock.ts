import type { Clock } from '../../libs/shared/src/clock';
import { parseDuration } from '../../libs/shared/src/duration';

/**
 * The domain's clock (CLOCK) under the test's control: it stands still until the test sets or
 * advances it. Give it to startTestApp and startTestWorker so the API and the worker agree on
 * "now"; deadline tests advance it past a deadline, then run the sweep or the due job once.
 */
export class FakeClock implements Clock {
  private ms: number;

  constructor(start: Date | number = Date.now()) {
    this.ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  set(at: Date | number): void {
    this.ms = new Date(at).getTime();
  }

  /** Moves the clock forward by `ms` (or by a duration like '96h', '2s', '1500ms'). */
  advance(by: number | string): Date {
    this.ms += typeof by === 'number' ? by : parseDuration(by);
    return this.now();
  }
}
