import { roundsUntilShort } from './rounds';

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
