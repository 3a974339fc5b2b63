import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { CLOCK, HEJIE_CONFIG } from '@app/shared';
import type { Actor, Clock, HejieConfig } from '@app/shared';
import { REDIS } from '../ops/redis.provider';

export interface StreamTicket {
  ticket: string;
  expiresAt: string;
}

export interface RedeemedTicket {
  actor: Actor;
  /** When the bearer token the ticket was exchanged for expires (the stream ends then). */
  tokenExpiresAtMs: number | null;
}

/**
 * Single-use stream tickets. EventSource cannot send an Authorization header, and a JWT in a
 * URL ends up in browser history, proxy logs and Referer headers; so an authenticated
 * `POST /v1/stream/ticket` trades the bearer token for 32 random bytes, kept in Redis for
 * STREAM_TICKET_TTL (60 s) under their SHA-256 (a Redis dump holds no usable ticket), and
 * `GET /v1/stream?ticket=…` takes it back with GETDEL: the first use wins, a replay is 401.
 */
@Injectable()
export class StreamTickets {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private key(ticket: string): string {
    const digest = createHash('sha256').update(ticket).digest('hex');
    return `${this.config.queuePrefix}:stream-ticket:${digest}`;
  }

  async issue(actor: Actor, tokenExpiresAtMs: number | null): Promise<StreamTicket> {
    const ticket = randomBytes(32).toString('base64url');
    const ttl = this.config.streamTicketTtlMs;
    const value: RedeemedTicket = { actor, tokenExpiresAtMs };
    await this.redis.set(this.key(ticket), JSON.stringify(value), 'PX', ttl);
    return { ticket, expiresAt: new Date(this.clock.now().getTime() + ttl).toISOString() };
  }

  /** The ticket's caller, once; null for an unknown, used or expired ticket. */
  async redeem(ticket: string): Promise<RedeemedTicket | null> {
    if (!/^[\w-]{43}$/.test(ticket)) return null;
    const raw = await this.redis.getdel(this.key(ticket));
    return raw ? (JSON.parse(raw) as RedeemedTicket) : null;
  }
}
