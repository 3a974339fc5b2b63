import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';
import { FeedCursor, TicketFeed } from '@app/complaints';
import type { FeedChange, TicketFeedEvent } from '@app/complaints';
import type { Actor, Role } from '@app/shared';

/** What a `ticket` event carries: the ticket as this subscriber may see it (stream.dto.ts). */
export type TicketStreamEvent = TicketFeedEvent;

/** What the `ready` event carries (stream.dto.ts). */
export interface StreamReady {
  role: Role;
  pollIntervalMs: number;
}

interface Subscriber {
  actor: Actor;
  send(event: MessageEvent): void;
}

/** Outbox rows read per poll; the next poll continues where this one stopped. */
const BATCH = 1000;

/**
 * Live ticket changes for the dashboards' server-sent events. The domain's ticket change feed
 * (TicketFeed: the transactional outbox past a cursor) says which tickets changed and what each
 * subscriber may see of them; this hub only runs one poller per API process, while someone
 * listens, and streams what the feed yields. The poll interval is STREAM_POLL_INTERVAL_MS
 * (default 1000).
 */
@Injectable()
export class StreamHub implements OnModuleDestroy {
  private readonly logger = new Logger(StreamHub.name);
  private readonly subscribers = new Set<Subscriber>();
  private readonly closers = new Set<() => void>();
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private cursor: FeedCursor | null = null;
  private polling: Promise<void> | null = null;

  constructor(private readonly feed: TicketFeed) {
    const ms = Number(process.env.STREAM_POLL_INTERVAL_MS ?? 1000);
    this.intervalMs = Number.isFinite(ms) && ms >= 50 ? ms : 1000;
  }

  get size(): number {
    return this.subscribers.size;
  }

  /**
   * The caller's stream: `ready` as soon as the poller holds its cursor (clients reload their
   * lists then, so nothing falls between their last fetch and the stream), `ticket` for each visible change, a comment every
   * 20 s to keep proxies from closing an idle connection. Ends when the token expires.
   */
  subscribe(actor: Actor, expiresAtMs: number | null): Observable<MessageEvent> {
    return new Observable<MessageEvent>((out) => {
      const sub: Subscriber = { actor, send: (e) => out.next(e) };
      const close = () => out.complete();
      this.subscribers.add(sub);
      this.closers.add(close);
      const heartbeat = setInterval(() => out.next({ comment: 'keep-alive' }), 20_000);
      const remaining = expiresAtMs === null ? null : expiresAtMs - Date.now();
      const expiry =
        remaining !== null
          ? setTimeout(close, Math.max(0, Math.min(remaining, 2 ** 31 - 1)))
          : null;
      this.start();
      // `ready` once the poller has its cursor: whatever changes after this reaches the client.
      void this.tick().then(() => {
        const ready: StreamReady = { role: actor.role, pollIntervalMs: this.intervalMs };
        if (this.subscribers.has(sub)) out.next({ type: 'ready', data: ready });
      });
      return () => {
        clearInterval(heartbeat);
        if (expiry) clearTimeout(expiry);
        this.subscribers.delete(sub);
        this.closers.delete(close);
        if (this.subscribers.size === 0) this.stop();
      };
    });
  }

  /** Ends every open stream (so the HTTP server can close) and stops polling. */
  async onModuleDestroy(): Promise<void> {
    for (const close of [...this.closers]) close();
    this.stop();
    await this.polling;
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Listening starts afresh next time; clients reload on `ready` anyway.
    this.cursor = null;
  }

  private tick(): Promise<void> {
    if (!this.polling) {
      this.polling = this.poll()
        .catch((e: unknown) => {
          this.logger.warn(`stream poll failed: ${e instanceof Error ? e.message : String(e)}`);
        })
        .finally(() => {
          this.polling = null;
        });
    }
    return this.polling;
  }

  /** One round; exposed for tests. */
  async poll(): Promise<void> {
    if (this.cursor === null) {
      this.cursor = await this.feed.start();
      return;
    }
    const changes = await this.feed.poll(this.cursor, BATCH);
    if (changes.length && this.subscribers.size) this.publish(changes);
  }

  private publish(changes: FeedChange[]): void {
    for (const sub of this.subscribers) {
      for (const change of changes) {
        const data: TicketStreamEvent | null = this.feed.eventFor(change, sub.actor);
        if (data) sub.send({ type: 'ticket', id: change.key, data });
      }
    }
  }
}
