import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import type { RedisClient } from '@app/shared';

const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {hits, redis.call('PTTL', KEYS[1])}`;

/**
 * @nestjs/throttler's counters in Redis, so every API replica shares them. (The maintained
 * adapter, @nest-lab/throttler-storage-redis, does not yet declare Nest 12 as a peer; this is
 * its fixed-window algorithm in one Lua call.) Over the limit, a caller is blocked until the
 * window ends.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const [hits, pttl] = (await this.redis.eval(INCREMENT, 1, `${this.prefix}${key}`, ttl)) as [
      number,
      number,
    ];
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

/** Limits per caller (the JWT subject), not per IP: consumers behind one carrier NAT differ. */
@Injectable()
export class CallerThrottlerGuard extends ThrottlerGuard {
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
