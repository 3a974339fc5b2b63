import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { MessageEvent } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Observable } from 'rxjs';
import { ReadRouter } from '@app/database';
import { DataSource } from 'typeorm';
import { canSee, ticketView } from '@app/complaints';
import type { ComplaintRow, TicketView } from '@app/complaints';
import { CLOCK, HEJIE_CONFIG } from '@app/shared';
import type { Actor, Clock, HejieConfig } from '@app/shared';

/** What a `ticket` event carries: the ticket as this subscriber may see it. */
export interface TicketStreamEvent {
  ticket: TicketView;
  /** Type of the ticket's latest trail event (e.g. `offer_made`, `regulator_viewed`). */
  lastEventType: string | null;
}

interface Subscriber {
  actor: Actor;
  send(event: MessageEvent): void;
}

/** A sequence number is skipped for at most this long before we stop waiting for it. */
const GAP_WAIT_MS = 30_000;
/** Rows read per poll; the next poll continues where this one stopped. */
const BATCH = 1000;

/**
 * Live ticket changes for the dashboards' server-sent events, by polling the transactional
 * outbox: every ticket event (creation, message, offer, state change, a regulator's view),
 * whether made by the API or the worker, writes an `outbox` row in its own transaction, keyed
 * by a `bigserial`. One poller per API process (only while someone listens) reads the rows past
 * its cursor on the primary-key index, then the changed tickets, and hands each subscriber the
 * ones it may see, shaped by the same `ticketView` as the REST API (phones masked for merchants).
 *
 * Sequence values are taken at insert and committed in any order, so an id below the cursor
 * can still appear: ids skipped over are remembered and asked for again for GAP_WAIT_MS (a
 * rolled-back insert leaves a gap that never fills). The poll interval is
 * STREAM_POLL_INTERVAL_MS (default 1000).
 */
@Injectable()
export class StreamHub implements OnModuleDestroy {
  private readonly logger = new Logger(StreamHub.name);
  private readonly subscribers = new Set<Subscriber>();
  private readonly closers = new Set<() => void>();
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private cursor: number | null = null;
  private readonly missing = new Map<number, number>();
  private polling: Promise<void> | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    // The live feed reads the outbox and the tickets from the replica when there is one.
    private readonly reads: ReadRouter,
  ) {
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
        if (this.subscribers.has(sub))
          out.next({ type: 'ready', data: { role: actor.role, pollIntervalMs: this.intervalMs } });
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
    this.missing.clear();
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
    if (!this.db.isInitialized) return;
    if (this.cursor === null) {
      const [{ max }]: { max: string }[] = await this.reads.query(
        'SELECT coalesce(max(id), 0)::text AS max FROM outbox',
      );
      this.cursor = Number(max);
      return;
    }
    const nowMs = Date.now();
    const rows: { id: string; complaint_id: string }[] = await this.reads.query(
      `SELECT id::text AS id, complaint_id FROM outbox
        WHERE id > $1 OR id = ANY($2::bigint[]) ORDER BY id LIMIT ${BATCH}`,
      [this.cursor, [...this.missing.keys()]],
    );
    const changed = new Set<string>();
    let cursor = this.cursor;
    for (const r of rows) {
      const id = Number(r.id);
      changed.add(r.complaint_id);
      if (this.missing.delete(id) || id <= cursor) continue;
      // Remember what we skip (bounded: a huge gap is a sequence jump, not open transactions).
      for (let g = cursor + 1; g < id && g - cursor <= BATCH; g++) this.missing.set(g, nowMs);
      cursor = id;
    }
    this.cursor = cursor;
    for (const [id, since] of this.missing) {
      if (nowMs - since > GAP_WAIT_MS) this.missing.delete(id);
    }
    if (changed.size && this.subscribers.size) await this.publish([...changed]);
  }

  private async publish(ids: string[]): Promise<void> {
    const rows: (ComplaintRow & { last_event_type: string | null })[] = await this.reads.query(
      `SELECT c.*, e.type AS last_event_type
         FROM complaints c
         LEFT JOIN complaint_events e ON e.complaint_id = c.id AND e.seq = c.event_count
        WHERE c.id = ANY($1::uuid[])
        ORDER BY c.updated_at`,
      [ids],
    );
    const now = this.clock.now();
    for (const sub of this.subscribers) {
      for (const row of rows) {
        if (!canSee(row, sub.actor)) continue;
        const data: TicketStreamEvent = {
          ticket: ticketView(row, sub.actor, this.config.piiKey, now),
          lastEventType: row.last_event_type,
        };
        sub.send({ type: 'ticket', id: `${row.id}:${row.event_count}`, data });
      }
    }
  }
}
