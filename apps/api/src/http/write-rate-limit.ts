import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Redis from 'ioredis';
import { DomainError, HEJIE_CONFIG } from '@app/shared';
import type { Actor, HejieConfig } from '@app/shared';
import { REDIS } from '../ops/redis.provider';
import { CallerThrottlerGuard, PENDING_WRITE_LIMIT, RedisThrottlerStorage } from './rate-limit';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Who a limit counts: the token's identity (role, its merchant or office, subject). */
export function callerKey(actor: Actor): string {
  return `${actor.role}:${actor.merchantId ?? actor.officeId ?? '-'}:${actor.sub}`;
}

/** The per-caller counter of writes (WRITE_RATE_LIMIT per WRITE_RATE_LIMIT_WINDOW), in Redis. */
@Injectable()
export class WriteLimiter {
  private readonly storage: RedisThrottlerStorage;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
  ) {
    this.storage = new RedisThrottlerStorage(redis, `${config.queuePrefix}:write-limit:`);
  }

  /** Counts one write by `actor`; over the limit, a RATE_LIMITED error with `retryAfter` seconds. */
  async consume(actor: Actor): Promise<void> {
    const limit = this.config.writeRateLimit;
    const windowMs = this.config.writeRateLimitWindowMs;
    const r = await this.storage.increment(callerKey(actor), windowMs, limit);
    if (!r.isBlocked) return;
    throw new DomainError(
      'RATE_LIMITED',
      `at most ${limit} writes per ${windowMs / 1000} s per caller; retry in ${r.timeToExpire} s`,
      { retryAfter: r.timeToExpire },
    );
  }
}

/**
 * Every authenticated write (POST, PUT, PATCH, DELETE with a bearer token), whatever the
 * route: at most WRITE_RATE_LIMIT per WRITE_RATE_LIMIT_WINDOW per caller, counted in Redis
 * (shared by all API replicas), else 429 RATE_LIMITED with Retry-After. A global guard
 * registered after AuthGuard, so `req.actor` is known; unauthenticated routes (provider
 * callbacks, signed receipts, dev login) have their own limits. The tighter RATE_LIMIT on
 * complaint creation and messages still applies on top: on those routes this guard leaves its
 * count pending for CallerThrottlerGuard, so both counters cost one Redis round trip. (The Bull
 * Board session exchange, outside Nest's router, calls the same WriteLimiter.)
 */
@Injectable()
export class WriteRateLimitGuard implements CanActivate {
  private readonly throttled = new WeakMap<object, boolean>();

  constructor(
    private readonly limiter: WriteLimiter,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    if (!req.actor || !WRITES.has(req.method)) return true;
    const counted = this.limiter.consume(req.actor).catch((e: unknown) => {
      const retryAfter = (e as DomainError).extra?.retryAfter;
      if (retryAfter !== undefined) {
        void ctx
          .switchToHttp()
          .getResponse<FastifyReply>()
          .header('retry-after', String(retryAfter));
      }
      throw e;
    });
    if (this.throttledRoute(ctx)) {
      // CallerThrottlerGuard runs next and settles this count with its own: one Redis round trip.
      counted.catch(() => undefined);
      (req as unknown as Record<symbol, unknown>)[PENDING_WRITE_LIMIT] = counted;
      return true;
    }
    await counted;
    return true;
  }

  /** The route (or its controller) has CallerThrottlerGuard, which runs after this global guard. */
  private throttledRoute(ctx: ExecutionContext): boolean {
    const handler = ctx.getHandler();
    let known = this.throttled.get(handler);
    if (known === undefined) {
      known = [handler, ctx.getClass()].some((target) =>
        (this.reflector.get<unknown[]>(GUARDS_METADATA, target) ?? []).includes(
          CallerThrottlerGuard,
        ),
      );
      this.throttled.set(handler, known);
    }
    return known;
  }
}
