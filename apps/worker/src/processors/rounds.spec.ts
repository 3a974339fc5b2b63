import { InFlightLimit, roundsUntilShort } from './rounds';

describe('roundsUntilShort', () => {
  it('runs again while a round was full, and adds up every count', async () => {
    const rounds = [
      { claimed: 3, sent: 2, dead: 1 },
      { claimed: 3, sent: 3, dead: 0 },
      { claimed: 1, sent: 0, dead: 1 },
      { claimed: 9, sent: 9, dead: 9 },
    ];
    let calls = 0;
    const total = await roundsUntilShort(
      3,
      async () => rounds[calls++],
      (r) => r.claimed,
    );
    expect(calls).toBe(3);
    expect(total).toEqual({ claimed: 7, sent: 5, dead: 2 });
  });

  it('stops after one round that was not full', async () => {
    let calls = 0;
    const total = await roundsUntilShort(
      500,
      async () => ({ changed: 499 + calls++ }),
      (r) => r.changed,
    );
    expect(calls).toBe(1);
    expect(total).toEqual({ changed: 499 });
  });
});

describe('InFlightLimit', () => {
  it('runs at most `max` at once, refuses the others at once, and frees a slot when one ends', async () => {
    const limit = new InFlightLimit(2);
    const gates: (() => void)[] = [];
    const work = () => new Promise<string>((done) => gates.push(() => done('ran')));
    const first = limit.tryRun(work);
    const second = limit.tryRun(work);
    expect(limit.size).toBe(2);
    expect(await limit.tryRun(work)).toBeNull();
    expect(gates).toHaveLength(2);
    gates[0]();
    expect(await first).toBe('ran');
    expect(limit.size).toBe(1);
    const third = limit.tryRun(work);
    expect(gates).toHaveLength(3);
    gates[1]();
    gates[2]();
    expect([await second, await third]).toEqual(['ran', 'ran']);
    expect(limit.size).toBe(0);
  });

  it('frees the slot when the work fails', async () => {
    const limit = new InFlightLimit(1);
    await expect(limit.tryRun(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit.tryRun(async () => 1)).toBe(1);
  });
});
