import { concurrencyLimit } from './work-queue';

describe('concurrencyLimit', () => {
  it('runs at most `max` at once, queues the rest in order, and a failure frees its place', async () => {
    const limit = concurrencyLimit(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const job = (i: number, fail = false) =>
      limit(async () => {
        running++;
        most = Math.max(most, running);
        order.push(i);
        await new Promise<void>((r) => gates.push(r));
        running--;
        if (fail) throw new Error(`job ${i}`);
        return i;
      });
    const all = [job(0, true), job(1), job(2), job(3)].map((p) => p.catch((e: Error) => e.message));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([0, 1]);
    while (gates.length) {
      gates.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(all)).toEqual(['job 0', 1, 2, 3]);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(most).toBe(2);
  });
});
