import { coalesce } from './coalesce';

describe('coalesce', () => {
  it('hands calls of one event-loop turn to one flush, and later calls to the next', async () => {
    const flushes: number[][] = [];
    const schedule = coalesce<number>(async (items) => {
      flushes.push(items);
    });
    const first = [schedule([1, 2]), schedule([3]), schedule([])];
    expect(flushes).toEqual([]); // nothing before the turn ends
    await Promise.all(first);
    expect(flushes).toEqual([[1, 2, 3]]);
    await schedule([4]);
    expect(flushes).toEqual([[1, 2, 3], [4]]);
  });

  it('settles every caller of a batch with its flush, failure included', async () => {
    const schedule = coalesce<number>(async () => {
      throw new Error('redis down');
    });
    const results = await Promise.allSettled([schedule([1]), schedule([2])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
