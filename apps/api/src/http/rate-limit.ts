import { createHash } from 'node:crypto';
import { ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { rateLimitUnavailable } from '@app/shared';
import type { RedisClient } from '@app/shared';

/** Fixed-window counters: INCR each key, start its window on the first hit, answer hits and PTTL. */
const INCREMENT = `
local out = {}
for i, key in ipairs(KEYS) do
  local hits = redis.call('INCR', key)
  if hits == 1 then redis.call('PEXPIRE', key, ARGV[i]) end
  out[#out + 1] = hits
  out[#out + 1] = redis.call('PTTL', key)
end
return out`;
const INCREMENT_SHA = createHash('sha1').update(INCREMENT).digest('hex');

interface Pending {
  key: string;
  ttlMs: number;
  resolve: (r: [hits: number, pttl: number]) => void;
}

/**
 * The rate limiters' counters in Redis, shared by every API replica. The increments asked for in
 * one turn of the event loop (setImmediate) go to Redis as one EVALSHA over all their keys: a
 * write's two counters (WRITE_RATE_LIMIT and the route's RATE_LIMIT) cost one round trip, and
 * under load the requests that arrived together share it. A cluster runs a script only over keys
 * of one hash slot, so there every key gets its own call (issued together, not one after another).
 */
export class RedisCounters {
  private readonly logger = new Logger('RateLimit');
  private batch: Pending[] | null = null;
  private warnedAt = -Infinity;

  constructor(private readonly redis: RedisClient) {}

  /** The key's hits in its window so far (this one included) and the window's remaining ms. */
  increment(key: string, ttlMs: number): Promise<[hits: number, pttl: number]> {
    return new Promise((resolve) => {
      if (!this.batch) {
        const mine: Pending[] = [];
        this.batch = mine;
        setImmediate(() => {
          this.batch = null;
          void this.flush(mine);
        });
      }
      this.batch.push({ key, ttlMs, resolve });
    });
  }

  private async flush(items: Pending[]): Promise<void> {
    const groups = this.redis.isCluster ? items.map((i) => [i]) : [items];
    await Promise.all(
      groups.map(async (group) => {
        try {
          const out = await this.run(
            group.map((i) => i.key),
            group.map((i) => String(i.ttlMs)),
          );
          group.forEach((i, n) => i.resolve([Number(out[2 * n]), Number(out[2 * n + 1])]));
        } catch (e) {
          // Redis did not answer (a single server down, a cluster's master failing over): the
          // limits are a defence, not the record — the write itself is guarded in PostgreSQL —
          // so the request goes through as a window's first hit instead of failing with a 500.
          // Counted (hejie_rate_limit_unavailable_total) and logged at most every 10 s.
          rateLimitUnavailable.inc(group.length);
          this.warn(e);
          for (const i of group) i.resolve([1, i.ttlMs]);
        }
      }),
    );
  }

  private warn(e: unknown): void {
    const now = performance.now();
    if (now - this.warnedAt < 10_000) return;
    this.warnedAt = now;
    const reason = e instanceof Error ? e.message : String(e);
    this.logger.warn(`Redis unavailable for rate limits, requests let through: ${reason}`);
  }

  private async run(keys: string[], ttls: string[]): Promise<unknown[]> {
    try {
      return (await this.redis.evalsha(INCREMENT_SHA, keys.length, ...keys, ...ttls)) as unknown[];
    } catch (e) {
      // The script is not (or no longer) cached on that server: send it once.
      if (!/NOSCRIPT/.test(e instanceof Error ? e.message : String(e))) throw e;
      return (await this.redis.eval(INCREMENT, keys.length, ...keys, ...ttls)) as unknown[];
    }
  }
}

const counters = new WeakMap<RedisClient, RedisCounters>();

/** One RedisCounters per client, so every limiter on it shares the batch. */
export function countersOf(redis: RedisClient): RedisCounters {
  let c = counters.get(redis);
  if (!c) counters.set(redis, (c = new RedisCounters(redis)));
  return c;
}

/**
 * @nestjs/throttler's counters in Redis, so every API replica shares them. (The maintained
 * adapter, @nest-lab/throttler-storage-redis, does not yet declare Nest 12 as a peer; this is
 * its fixed-window algorithm in one Lua call.) Over the limit, a caller is blocked until the
 * window ends.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly counters: RedisCounters;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
  ) {
    this.counters = countersOf(redis);
  }

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const [hits, pttl] = await this.counters.increment(`${this.prefix}${key}`, ttl);
    const seconds = Math.max(1, Math.ceil(pttl / 1000));
    const isBlocked = hits > limit;
    return {
      totalHits: hits,
      timeToExpire: seconds,
      isBlocked,
      timeToBlockExpire: isBlocked ? seconds : 0,
    };
  }
}

/**
 * Where WriteRateLimitGuard leaves its count of a write on a route that also has
 * CallerThrottlerGuard: that guard settles it together with its own, so both counters go to
 * Redis in one round trip.
 */
export const PENDING_WRITE_LIMIT = Symbol('pendingWriteLimit');

/** Limits per caller (the JWT subject), not per IP: consumers behind one carrier NAT differ. */
@Injectable()
export class CallerThrottlerGuard extends ThrottlerGuard {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Record<string | symbol, unknown>>();
    const writeLimit = req[PENDING_WRITE_LIMIT] as Promise<void> | undefined;
    delete req[PENDING_WRITE_LIMIT];
    // Its increment joins the write limit's in the same batch (no I/O in between).
    const throttled = super.canActivate(context);
    if (writeLimit) {
      throttled.catch(() => undefined);
      // The write limit answers first, as when its guard settled it alone.
      await writeLimit;
    }
    return throttled;
  }

  protected async getTracker(req: Record<string, unknown>): Promise<string> {
    const actor = req.actor as { role: string; sub: string } | undefined;
    return actor ? `${actor.role}:${actor.sub}` : `ip:${String(req.ip)}`;
  }

  protected getRequestResponse(context: ExecutionContext) {
    const http = context.switchToHttp();
    return {
      req: http.getRequest<Record<string, unknown>>(),
      res: http.getResponse<Record<string, unknown>>(),
    };
  }
}
