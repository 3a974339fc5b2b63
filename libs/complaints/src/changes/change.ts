import { DomainError } from '@app/shared';
import type { Actor } from '@app/shared';
import type { DataSource, EntityManager } from 'typeorm';
import { nextStatus } from '../lifecycle';
import type { ActorRole, TicketAction, TicketStatus } from '../lifecycle';
import { nextEvent } from '../trail';
import type { EventActor } from '../trail';
import type { ComplaintRow } from '../complaint.row';
import type { Deadline } from '../jobs/deadline-scheduler';
import type { DeadlineBasis } from '../calendar/deadlines';
import type { TicketChange } from './change-writer';

/** What a state change writes besides the status: columns to set and the event to append. */
export interface Change {
  set?: Record<string, unknown>;
  event: { type: string; data: Record<string, unknown> };
  /** New clocks to watch; scheduled as delayed jobs once the transaction committed. */
  deadlines?: Deadline[];
}

/** Who acts: an HTTP caller, or the worker enforcing a deadline. */
export type Performer = Actor | { role: 'system'; sub: string };

/** A worker batch: transitions share its transaction; deadlines are scheduled after commit. */
export interface BatchContext {
  tx: EntityManager;
  deadlines: Deadline[];
}

/**
 * `work` as one batch in one transaction of `db`: resolves once committed, with its result and
 * the deadlines its transitions set, for the caller to schedule (never before the commit).
 */
export async function inBatch<T>(
  db: DataSource,
  work: (ctx: BatchContext) => Promise<T>,
): Promise<{ result: T; deadlines: Deadline[] }> {
  const deadlines: Deadline[] = [];
  const result = await db.transaction((tx) => work({ tx, deadlines }));
  return { result, deadlines };
}

export const isSystem = (p: Performer): p is { role: 'system'; sub: string } => p.role === 'system';

/** The worker enforcing deadlines. */
export const SWEEPER: Performer = { role: 'system', sub: 'deadline-worker' };

export function actorOf(p: Performer): EventActor {
  return { role: p.role, id: p.sub };
}

/**
 * nextStatus, with the refusal's details renamed: the state table reports the current status as
 * `status`, and the problem filter spreads a DomainError's extras into the RFC 9457 body, where
 * `status` is the HTTP status. `status: "resolved"` there turned every INVALID_TRANSITION into
 * a 500.
 */
export function allowedNext(
  from: TicketStatus,
  action: TicketAction,
  role: ActorRole,
): TicketStatus {
  try {
    return nextStatus(from, action, role);
  } catch (e) {
    if (e instanceof DomainError && e.code === 'INVALID_TRANSITION') {
      throw new DomainError('INVALID_TRANSITION', e.message, {
        ticketStatus: from,
        action,
        actor: role,
      });
    }
    throw e;
  }
}

/**
 * Who made a decision the consumer may appeal (declined, mediation_failed): the officer's (or
 * admin's) `sub`; `system` for the worker's time-limit termination. The appeal is decided by
 * someone else (appeals/appeal-policy.ts).
 */
export function decidedBy(p: Performer, now: Date): { decided_by: string; decided_at: Date } {
  return { decided_by: p.role === 'system' ? 'system' : p.sub, decided_at: now };
}

/** The ticket's deadline_basis with `field` set, as the JSON text a jsonb column takes. */
export function withBasis(
  t: Pick<ComplaintRow, 'deadline_basis'>,
  field: string,
  basis: DeadlineBasis,
): string {
  return JSON.stringify({ ...(t.deadline_basis ?? {}), [field]: basis });
}

/**
 * A Change applied to a locked row going to `next`: the next event of its trail (from/to added
 * when the status moves) and every column the guarded UPDATE sets, the new chain head included.
 * The answer is what the change writer takes (changes/change-writer.ts).
 */
export function planChange(
  t: ComplaintRow,
  next: TicketStatus,
  c: Change,
  performer: Performer,
  now: Date,
): TicketChange {
  const event = nextEvent(t, c.event.type, actorOf(performer), now, {
    ...c.event.data,
    ...(next !== t.status ? { from: t.status, to: next } : {}),
  });
  const set: Record<string, unknown> = {
    ...c.set,
    status: next,
    event_count: event.seq,
    head_hash: event.hash,
    updated_at: now,
  };
  return { kind: 'update', from: t, set, event };
}
