import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { metricsRegistry } from '@app/shared';
import { RedisCounters, RedisThrottlerStorage } from './rate-limit';

/**
 * Redis unreachable (a server down, a cluster's master failing over): the limiter lets the
 * request through instead of failing it with a 500. A real ioredis client, configured as the
 * API's (no offline queue, one retry), aimed at a port where nothing listens.
 */
describe('rate limits when Redis does not answer', () => {
  let redis: Redis;
  const unavailable = async () =>
    (await metricsRegistry.getSingleMetric('hejie_rate_limit_unavailable_total')!.get()).values[0]
      ?.value ?? 0;

  beforeAll(async () => {
    redis = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: false,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    // Connection refused, no retry: the client ends (and holds no socket or timer).
    await new Promise((ended) => redis.once('end', ended));
  });
  // Nothing to close: the client has ended (disconnect() would start a connector timer).
  afterAll(() => expect(redis.status).toBe('end'));

  it('counts each as a window’s first hit, counts the miss and warns once', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const before = await unavailable();
      const counters = new RedisCounters(redis);
      const got = await Promise.all([
        counters.increment('a', 60_000),
        counters.increment('b', 1_000),
      ]);
      expect(got).toEqual([
        [1, 60_000],
        [1, 1_000],
      ]);
      expect(await unavailable()).toBe(before + 2);
      await counters.increment('c', 5_000);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/Redis unavailable for rate limits/);
    } finally {
      warn.mockRestore();
    }
  });

  it('the throttler storage does not block a caller then', async () => {
    const storage = new RedisThrottlerStorage(redis, 'test:');
    await expect(storage.increment('caller', 60_000, 1)).resolves.toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });
});
