import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CLOCK, DomainError } from '@app/shared';
import type { Actor, Clock } from '@app/shared';
import type { ActorRole, TicketAction } from '../lifecycle';
import type { ComplaintRow } from '../complaint.row';
import { DeadlineScheduler } from '../jobs/deadline-scheduler';
import type { Deadline } from '../jobs/deadline-scheduler';
import { canSee } from '../policy/visibility';
import { ChangeWriter } from './change-writer';
import { allowedNext, isSystem, planChange } from './change';
import type { BatchContext, Change, Performer } from './change';

/** Decides the action under the lock; null is "nothing to do" (the worker, settlement/). */
export type ActionOf = (
  t: ComplaintRow,
  tx: EntityManager,
  now: Date,
) => TicketAction | null | Promise<TicketAction | null>;

export type ChangeOf = (t: ComplaintRow, now: Date, tx: EntityManager) => Change | Promise<Change>;

/**
 * One state change = one transaction: lock the ticket, ask the state table, run the change
 * (which may refuse), then the change writer's guarded write with its event, outbox rows and
 * webhook delivery (changes/change-writer.ts, a batch of one) and, after commit, the deadline
 * jobs. Every use case, settlement/, appeals/, evidence/ and case-packet/ change tickets here.
 */
@Injectable()
export class TicketTransitions {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly writer: ChangeWriter,
    private readonly scheduler: DeadlineScheduler,
  ) {}

  /**
   * `action` null appends an event without a state change (a regulator's view); a function
   * decides the action under the lock, returning null for "nothing to do" (then: false).
   * Within `outer` (a worker batch, a caller's transaction) the deadlines are left to its owner.
   */
  async transition(
    id: string,
    performer: Performer,
    action: TicketAction | null | ActionOf,
    change: ChangeOf,
    outer?: BatchContext,
  ): Promise<boolean> {
    let deadlines: Deadline[] = [];
    const work = async (tx: EntityManager): Promise<boolean> => {
      const [t]: ComplaintRow[] = await tx.query(
        'SELECT * FROM complaints WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (!t || (!isSystem(performer) && !canSee(t, performer))) {
        throw new DomainError('NOT_FOUND', `complaint ${id} not found`);
      }
      const now = this.clock.now();
      const resolved = typeof action === 'function' ? await action(t, tx, now) : action;
      if (typeof action === 'function' && resolved === null) return false;
      const next = resolved
        ? allowedNext(t.status, resolved, performer.role as ActorRole)
        : t.status;
      const c = await change(t, now, tx);
      // Guarded: only from the status we read, so racing actions leave exactly one winner.
      await this.writer.apply(tx, [planChange(t, next, c, performer, now)]);
      deadlines = c.deadlines ?? [];
      return true;
    };
    const changed = outer ? await work(outer.tx) : await this.db.transaction(work);
    if (changed && !outer) await this.scheduler.schedule(deadlines);
    else if (changed && outer) outer.deadlines.push(...deadlines);
    return changed;
  }

  /**
   * An event without a state change (evidence, the complainant's details), appended in the
   * caller's transaction `tx`: the ticket row locked, the guarded UPDATE of its chain head, the
   * event and the outbox rows. `change` runs under the lock and may refuse.
   */
  async recordEvent(tx: EntityManager, id: string, actor: Actor, change: ChangeOf): Promise<void> {
    // No deadlines come from such events (none would be scheduled: the caller owns the commit).
    await this.transition(id, actor, null, change, { tx, deadlines: [] });
  }
}
