import { RebaseGate } from './rebase-gate';

describe('RebaseGate', () => {
  it('runs after a new revision until a clean run at least settleMs later, then skips', () => {
    const gate = new RebaseGate(60_000);
    expect(gate.due(7, 0)).toBe(true); // first sweep of the process
    gate.done(7, 0, 1_000); // clean, but too soon: stragglers may still come
    expect(gate.due(7, 30_000)).toBe(true);
    gate.done(7, 3, 61_000); // found some: not clean
    expect(gate.due(7, 90_000)).toBe(true);
    gate.done(7, 0, 91_000);
    expect(gate.due(7, 120_000)).toBe(false);
    expect(gate.due(8, 150_000)).toBe(true); // a new version was loaded
  });
});
