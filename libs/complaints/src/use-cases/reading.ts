import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ReadRouter } from '@app/database';
import {
  CLOCK,
  DEFAULT_LIMIT,
  DomainError,
  HEJIE_CONFIG,
  decodeTimeIdCursor,
  pageOf,
} from '@app/shared';
import type { Actor, Clock, HejieConfig, Page } from '@app/shared';
import { boundParams } from '@app/shared/queryable';
import type { TicketStatus } from '../lifecycle';
import { readTrail, verifyTrail } from '../trail';
import type { TrailEvent } from '../trail';
import { ComplaintRow, OfferRow, offerView, ticketView } from '../complaint.row';
import type { OfferView, TicketView } from '../complaint.types';
import { StatsService } from '../stats/stats.service';
import { viewedSince } from '../views/regulator-views';
import { TicketTransitions } from '../changes/transitions';
import { seesSerialFlag, visibleTicket, visibleWhere } from '../policy/visibility';
import { CalendarService } from '../calendar/calendar.service';

export interface ListQuery {
  status?: TicketStatus;
  unassigned?: boolean;
  limit?: number;
  cursor?: string;
}

/** Each role's natural order of its list; the cursor carries that order's key. */
const LIST_ORDER: Record<Actor['role'], { sortCol: keyof ComplaintRow; dir: 'ASC' | 'DESC' }> = {
  consumer: { sortCol: 'created_at', dir: 'DESC' },
  merchant: { sortCol: 'merchant_respond_by', dir: 'ASC' },
  regulator: { sortCol: 'escalated_at', dir: 'ASC' },
  admin: { sortCol: 'created_at', dir: 'DESC' },
};

/** Reading tickets: one, a list, its trail, its offers — each only for those who may see it. */
@Injectable()
export class ReadingUseCase {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly reads: ReadRouter,
    private readonly stats: StatsService,
    private readonly transitions: TicketTransitions,
    private readonly calendar: CalendarService,
  ) {}

  /** Regulators and admins see whether the consumer is a serial complainant (policy/visibility). */
  async withSerialFlag(views: TicketView[], actor: Actor): Promise<TicketView[]> {
    if (!seesSerialFlag(actor)) return views;
    const serial = await this.stats.serialComplainantsAmong(views.map((v) => v.consumerId));
    return views.map((v) => ({ ...v, serialComplainant: serial.has(v.consumerId) }));
  }

  async get(id: string, actor: Actor): Promise<TicketView> {
    const now = this.clock.now();
    if (actor.role === 'regulator') {
      // A regulator's view is part of the trail (who looked at the file, and when): once per
      // officer per ticket per REGULATOR_VIEW_WINDOW, decided under the row lock (views/).
      const since = new Date(now.getTime() - this.config.regulatorViewWindowMs);
      await this.db.transaction(async (tx) => {
        if (await viewedSince(tx, id, actor.sub, since)) return;
        await this.transitions.recordEvent(tx, id, actor, () => ({
          event: { type: 'regulator_viewed', data: {} },
        }));
      });
    }
    return this.view(id, actor, now);
  }

  async list(actor: Actor, q: ListQuery): Promise<Page<TicketView>> {
    const now = this.clock.now();
    const limit = q.limit ?? DEFAULT_LIMIT;
    const { params, p } = boundParams();
    const where: string[] = [];
    if (actor.role !== 'admin') where.push(visibleWhere(actor, p));
    let { sortCol, dir } = LIST_ORDER[actor.role];
    // The merchant's open work, an accepted offer it still has to carry out included.
    if (actor.role === 'merchant' && !q.status) {
      where.push(`status IN ('awaiting_merchant', 'in_negotiation', 'settling')`);
    }
    if (q.unassigned) {
      if (actor.role !== 'admin')
        throw new DomainError('FORBIDDEN', 'the unassigned queue is for admins');
      ({ sortCol, dir } = { sortCol: 'escalated_at', dir: 'ASC' });
      where.push(`status = 'escalated' AND office_id IS NULL`);
    }
    if (q.status) where.push(`status = ${p(q.status)}`);
    // A forged cursor (e.g. ["1", uuid]) is a 400 before PostgreSQL casts it (see pagination).
    const cursor = decodeTimeIdCursor(q.cursor);
    if (cursor) {
      where.push(
        `(${sortCol}, id) ${dir === 'ASC' ? '>' : '<'} (${p(cursor[0])}::timestamptz, ${p(cursor[1])}::uuid)`,
      );
    }
    // A list may lag the primary by up to REPLICA_MAX_LAG: it goes to the replica when there is one.
    const rows: ComplaintRow[] = await this.reads.query(
      `SELECT * FROM complaints ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY ${sortCol} ${dir}, id ${dir} LIMIT ${p(limit + 1)}`,
      params,
    );
    const sortKey = (r: ComplaintRow) => (r[sortCol] as Date).toISOString();
    const page = pageOf(rows, limit, (r) => [sortKey(r), r.id]);
    const calendar = await this.calendar.snapshot();
    return {
      items: await this.withSerialFlag(
        page.items.map((r) => ticketView(r, actor, this.config.piiKey, now, calendar)),
        actor,
      ),
      nextCursor: page.nextCursor,
    };
  }

  async events(id: string, actor: Actor): Promise<TrailEvent[]> {
    await visibleTicket(this.db, id, actor);
    return readTrail(this.db.manager, id);
  }

  async verify(
    id: string,
    actor: Actor,
  ): Promise<{ valid: boolean; length: number; firstInvalidSeq?: number }> {
    const row = await visibleTicket(this.db, id, actor);
    const result = verifyTrail(await readTrail(this.db.manager, id), row);
    return {
      valid: result.valid,
      length: result.length,
      ...(result.firstInvalidSeq ? { firstInvalidSeq: result.firstInvalidSeq } : {}),
    };
  }

  async offers(id: string, actor: Actor): Promise<OfferView[]> {
    await visibleTicket(this.db, id, actor);
    const rows: OfferRow[] = await this.db.query(
      'SELECT * FROM complaint_offers WHERE complaint_id = $1 ORDER BY created_at, id',
      [id],
    );
    return rows.map(offerView);
  }

  /** One offer as it is now (the answer of makeOffer). */
  async offer(id: string): Promise<OfferView> {
    const [row]: OfferRow[] = await this.db.query('SELECT * FROM complaint_offers WHERE id = $1', [
      id,
    ]);
    return offerView(row);
  }

  /**
   * The answer of an action (also the appeals service's): the ticket as `viewer` sees it, once
   * `actor` may see it at all. Every single-ticket answer carries the regulator-only flag.
   */
  async view(id: string, actor: Actor, now: Date, viewer: Actor = actor): Promise<TicketView> {
    const row = await visibleTicket(this.db, id, actor);
    const calendar = await this.calendar.snapshot();
    const [view] = await this.withSerialFlag(
      [ticketView(row, viewer, this.config.piiKey, now, calendar)],
      viewer,
    );
    return view;
  }
}
