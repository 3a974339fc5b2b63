/*
 * The rate limiters' counters (apps/api/src/http/rate-limit.ts): the increments asked for in one
 * turn of the event loop go to Redis as one EVALSHA, so a complaint creation's two limits
 * (WRITE_RATE_LIMIT for every write, RATE_LIMIT for creations) cost one round trip; each limit
 * still answers on its own. Guangxi region codes (450331).
 */
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { REDIS } from '../apps/api/src/ops/redis.provider';
import { RedisCounters } from '../apps/api/src/http/rate-limit';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { complaintBody, createReceipt, createShop, Shop } from './factories/complaint.factory';

const REGION = '450331';

/** Counts the scripts the app's rate-limit client sends to Redis, and the keys of each. */
function countScripts(redis: Redis) {
  const calls: number[] = [];
  const spies = (['evalsha', 'eval'] as const).map((m) => {
    const original = redis[m].bind(redis) as (...a: unknown[]) => Promise<unknown>;
    return jest.spyOn(redis, m).mockImplementation(((...args: unknown[]) => {
      calls.push(Number(args[1]));
      return original(...args);
    }) as never);
  });
  return { calls, restore: () => spies.forEach((s) => s.mockRestore()) };
}

describe('rate-limit counters in Redis', () => {
  let t: TestApp;
  let shop: Shop;
  let redis: Redis;

  beforeAll(async () => {
    // Counters of its own (they live under the queue prefix): with a limit of 2, the admin writes
    // of other suites in this Jest worker's window would otherwise refuse this suite's setup.
    t = await startTestApp({
      RATE_LIMIT: '100000',
      WRITE_RATE_LIMIT: '2',
      QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'hejie'}_ratelimit_${randomBytes(3).toString('hex')}`,
    });
    shop = await createShop(t, REGION);
    redis = t.app.get<Redis>(REDIS);
  });
  afterAll(() => t.close());

  it('increments asked for in one turn share one EVALSHA; each key counts its own hits and window', async () => {
    const counters = new RedisCounters(redis);
    const k = `test:rl:${randomBytes(4).toString('hex')}`;
    const { calls, restore } = countScripts(redis);
    let r: [number, number][];
    try {
      r = await Promise.all([
        counters.increment(`${k}:a`, 60_000),
        counters.increment(`${k}:b`, 5_000),
        counters.increment(`${k}:a`, 60_000),
      ]);
    } finally {
      restore();
    }
    expect(calls).toEqual([3]);
    expect(r.map(([hits]) => hits)).toEqual([1, 1, 2]);
    expect(r[0][1]).toBeGreaterThan(55_000);
    expect(r[1][1]).toBeLessThanOrEqual(5_000);
    expect(await redis.pttl(`${k}:b`)).toBeGreaterThan(0);
    // The next turn is a new batch, and counts on.
    expect((await counters.increment(`${k}:a`, 60_000))[0]).toBe(3);
  });

  it('sends the script again when Redis no longer has it (SCRIPT FLUSH, a restart)', async () => {
    const counters = new RedisCounters(redis);
    const k = `test:rl:${randomBytes(4).toString('hex')}`;
    await counters.increment(k, 60_000);
    await redis.script('FLUSH');
    expect((await counters.increment(k, 60_000))[0]).toBe(2);
  });

  it("a creation's write limit and creation limit go to Redis in one round trip", async () => {
    const receipt = await createReceipt(t, { accountId: shop.accountId });
    const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
    const { calls, restore } = countScripts(redis);
    try {
      await t.http.post('/v1/complaints').set(consumer).send(complaintBody(receipt.id)).expect(201);
    } finally {
      restore();
    }
    expect(calls).toEqual([2]);
  });

  it('the write limit still applies to creations: the 3rd write → 429 RATE_LIMITED with Retry-After, no ticket', async () => {
    const payer = `c${randomBytes(5).toString('hex')}`;
    const receipts = [];
    for (let i = 0; i < 3; i++)
      receipts.push(await createReceipt(t, { accountId: shop.accountId, payer }));
    const consumer = bearer(t.token({ role: 'consumer', sub: `sunmi-pos:${payer}` }));
    for (const r of receipts.slice(0, 2)) {
      await t.http.post('/v1/complaints').set(consumer).send(complaintBody(r.id)).expect(201);
    }
    const third = await t.http
      .post('/v1/complaints')
      .set(consumer)
      .send(complaintBody(receipts[2].id));
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(third.body.detail).toMatch(/writes per/);
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    const rows: { n: number }[] = await t.db.query(
      'SELECT count(*)::int AS n FROM complaints WHERE receipt_id = $1',
      [receipts[2].id],
    );
    expect(rows[0].n).toBe(0);
  });
});
