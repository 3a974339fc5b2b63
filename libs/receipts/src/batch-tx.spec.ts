import type { Logger } from '@nestjs/common';
import { DEADLOCK_DETECTED, UNIQUE_VIOLATION } from '@app/shared';
import { BATCH_DEADLOCK_TRIES, retryOnDeadlock } from './batch-tx';

/** A driver error as pg raises it, or wrapped as TypeORM's QueryFailedError does. */
const pgError = (code: string, wrapped = false): Error =>
  wrapped
    ? Object.assign(new Error('query failed'), { driverError: { code } })
    : Object.assign(new Error(`pg ${code}`), { code });

/**
 * Issue 11: two concurrent batch imports that share keys across chunks can deadlock (40P01);
 * the batch is run again instead of answering 500. (test/receipts.e2e-spec.ts provokes the
 * deadlock with two real batches; whether PostgreSQL aborts one there depends on timing, so the
 * rule itself is pinned here.) Fake timers: the jittered pause between runs is not waited for.
 */
describe('retryOnDeadlock', () => {
  let logger: { warn: jest.Mock };
  beforeEach(() => {
    jest.useFakeTimers();
    logger = { warn: jest.fn() };
  });
  afterEach(() => jest.useRealTimers());

  /** Runs retryOnDeadlock, letting its pauses pass; its outcome. */
  async function outcome<T>(run: () => Promise<T>, codes?: string[]) {
    const p = retryOnDeadlock(run, logger as unknown as Logger, 'batch import', codes).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    await jest.advanceTimersByTimeAsync(10_000);
    return p;
  }

  it('runs the batch again after a deadlock (40P01), raw or wrapped by TypeORM', async () => {
    const run = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(pgError(DEADLOCK_DETECTED))
      .mockRejectedValueOnce(pgError(DEADLOCK_DETECTED, true))
      .mockResolvedValue('stored');
    expect(await outcome(run)).toEqual({ value: 'stored' });
    expect(run).toHaveBeenCalledTimes(3);
    expect(logger.warn).toHaveBeenCalledTimes(2);
    expect(logger.warn.mock.calls[0][0]).toMatch(/40P01 \(attempt 1\); running it again/);
  });

  it(`gives up after ${BATCH_DEADLOCK_TRIES} runs and reports the last deadlock`, async () => {
    const last = pgError(DEADLOCK_DETECTED);
    const run = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(pgError(DEADLOCK_DETECTED))
      .mockRejectedValueOnce(pgError(DEADLOCK_DETECTED))
      .mockRejectedValueOnce(last);
    expect(await outcome(run)).toEqual({ error: last });
    expect(run).toHaveBeenCalledTimes(BATCH_DEADLOCK_TRIES);
  });

  it('does not run it again for any other error, unless the caller names its code', async () => {
    const unique = pgError(UNIQUE_VIOLATION);
    const once = jest.fn<Promise<string>, []>().mockRejectedValue(unique);
    expect(await outcome(once)).toEqual({ error: unique });
    expect(once).toHaveBeenCalledTimes(1);
    const plain = new Error('directory unavailable');
    const notPg = jest.fn<Promise<string>, []>().mockRejectedValue(plain);
    expect(await outcome(notPg)).toEqual({ error: plain });
    expect(notPg).toHaveBeenCalledTimes(1);

    // The refund batch also runs again when a key was taken outside its gate (23505).
    const refunds = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(unique)
      .mockResolvedValue('stored');
    expect(await outcome(refunds, [DEADLOCK_DETECTED, UNIQUE_VIOLATION])).toEqual({
      value: 'stored',
    });
    expect(refunds).toHaveBeenCalledTimes(2);
  });
});
