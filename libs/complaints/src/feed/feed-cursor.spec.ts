import { FeedCursor, GAP_WAIT_MS } from './feed-cursor';

describe('FeedCursor (which outbox ids the live feed asks for next)', () => {
  it('moves to the highest id seen and awaits the ids it skipped', () => {
    const c = new FeedCursor(10);
    c.advance([11, 14], 0);
    expect(c.position).toBe(14);
    expect(c.awaited.sort((a, b) => a - b)).toEqual([12, 13]);
  });

  it('stops awaiting an id once it arrives, and never moves back', () => {
    const c = new FeedCursor(10);
    c.advance([13], 0);
    c.advance([12], 1000);
    expect(c.position).toBe(13);
    expect(c.awaited).toEqual([11]);
    // An id at or below the position that was not awaited (seen before) changes nothing.
    c.advance([13, 5], 2000);
    expect(c.position).toBe(13);
    expect(c.awaited).toEqual([11]);
  });

  it('gives up on a gap after GAP_WAIT_MS (a rolled-back insert never fills it)', () => {
    const c = new FeedCursor(0);
    c.advance([2], 0);
    c.advance([], GAP_WAIT_MS);
    expect(c.awaited).toEqual([1]);
    c.advance([], GAP_WAIT_MS + 1);
    expect(c.awaited).toEqual([]);
  });

  it('remembers at most maxGap ids of one jump (a sequence jump is not open transactions)', () => {
    const c = new FeedCursor(0, 5);
    c.advance([1000], 0);
    expect(c.position).toBe(1000);
    expect(c.awaited.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
  });
});
