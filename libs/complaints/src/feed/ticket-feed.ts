import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ReadRouter } from '@app/database';
import { CLOCK, HEJIE_CONFIG } from '@app/shared';
import type { Actor, Clock, HejieConfig } from '@app/shared';
import { canSee, ticketView } from '../complaint.row';
import type { ComplaintRow } from '../complaint.row';
import type { TicketView } from '../complaint.types';
import { FeedCursor } from './feed-cursor';
import { CalendarService } from '../calendar/calendar.service';
import type { CalendarSnapshot } from '../calendar/calendar-year';

/** One ticket that changed: its row now and the type of its latest trail event. */
export interface FeedChange {
  /** `<ticket id>:<event count>`: names this state of the ticket (the SSE event id). */
  readonly key: string;
  readonly row: ComplaintRow;
  readonly lastEventType: string | null;
  /** The calendar the ticket's appeal window is counted on (as in the REST API). */
  readonly calendar?: CalendarSnapshot;
}

/** What a subscriber is told of a change: the ticket as it may see it. */
export interface TicketFeedEvent {
  ticket: TicketView;
  /** Type of the ticket's latest trail event (e.g. `offer_made`, `regulator_viewed`). */
  lastEventType: string | null;
}

/**
 * The ticket change feed: every ticket event (creation, message, offer, state change, a
 * regulator's view), whether made by the API or the worker, writes an `outbox` row in its own
 * transaction, keyed by a `bigserial`. A reader starts at the outbox's head (`start`), then
 * `poll`s the rows past its cursor on the primary-key index (and the ids it still awaits, see
 * FeedCursor) and gets the tickets they name. `eventFor` tells one subscriber what it may see
 * of a change, shaped by the same `ticketView` as the REST API (phones masked for merchants).
 * Reads go to the replica when there is one.
 */
@Injectable()
export class TicketFeed {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly reads: ReadRouter,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly calendar: CalendarService,
  ) {}

  /** A cursor at the outbox's head: what changes after this is polled. Null before the database is up. */
  async start(): Promise<FeedCursor | null> {
    if (!this.db.isInitialized) return null;
    const [{ max }] = await this.reads.query<{ max: string }>(
      'SELECT coalesce(max(id), 0)::text AS max FROM outbox',
    );
    return new FeedCursor(Number(max));
  }

  /**
   * The tickets changed past the cursor (at most `limit` outbox rows read; the next poll goes on
   * where this one stopped), oldest change first; advances the cursor.
   */
  async poll(cursor: FeedCursor, limit = 1000, nowMs = Date.now()): Promise<FeedChange[]> {
    if (!this.db.isInitialized) return [];
    const rows = await this.reads.query<{ id: string; complaint_id: string }>(
      `SELECT id::text AS id, complaint_id FROM outbox
        WHERE id > $1 OR id = ANY($2::bigint[]) ORDER BY id LIMIT $3`,
      [cursor.position, cursor.awaited, limit],
    );
    cursor.advance(
      rows.map((r) => Number(r.id)),
      nowMs,
    );
    const changed = [...new Set(rows.map((r) => r.complaint_id))];
    if (!changed.length) return [];
    const tickets = await this.reads.query<ComplaintRow & { last_event_type: string | null }>(
      `SELECT c.*, e.type AS last_event_type
         FROM complaints c
         LEFT JOIN complaint_events e ON e.complaint_id = c.id AND e.seq = c.event_count
        WHERE c.id = ANY($1::uuid[])
        ORDER BY c.updated_at`,
      [changed],
    );
    const calendar = await this.calendar.snapshot();
    return tickets.map(({ last_event_type, ...row }) => ({
      key: `${row.id}:${row.event_count}`,
      row: row as ComplaintRow,
      lastEventType: last_event_type,
      calendar,
    }));
  }

  /** The change as `actor` may see it, or null when the ticket is not theirs to see. */
  eventFor(change: FeedChange, actor: Actor, now = this.clock.now()): TicketFeedEvent | null {
    if (!canSee(change.row, actor)) return null;
    return {
      ticket: ticketView(change.row, actor, this.config.piiKey, now, change.calendar),
      lastEventType: change.lastEventType,
    };
  }
}
