import { DomainError } from '@app/shared';
import type { Actor } from '@app/shared';
import { rowsOf } from '@app/shared/queryable';
import type { Queryable } from '@app/shared/queryable';
import type { ComplaintRow } from '../complaint.row';
import { AMOUNT_TYPES, DemandType } from '../complaint.types';
import { DEADLINE_FIELDS, computeDeadline } from '../calendar/deadlines';
import type { DeadlineBasis } from '../calendar/deadlines';
import type { CalendarSnapshot } from '../calendar/calendar-year';
import { acceptSpec } from '../rules/extensions';
import type { TicketRules } from '../rules/rules.service';

/** A refund, partial refund or compensation names its amount, a positive one. */
export function checkDemand(
  type: DemandType,
  amountMinor: number | null | undefined,
  field = 'demand.amountMinor',
): void {
  if (AMOUNT_TYPES.includes(type) && (amountMinor === undefined || amountMinor === null)) {
    throw new DomainError('VALIDATION_FAILED', `${field} is required for ${type}`, {}, [
      { field, message: `required for ${type}` },
    ]);
  }
  if (AMOUNT_TYPES.includes(type) && amountMinor === 0) {
    throw new DomainError('VALIDATION_FAILED', `${field} must be positive for ${type}`, {}, [
      { field, message: 'must be positive' },
    ]);
  }
}

/** acceptBy from `now` under a ticket's rules (working days, or hours for an hour limit). */
export function acceptBy(
  calendar: CalendarSnapshot,
  now: Date,
  rules: TicketRules,
  extraWorkdays = 0,
): { at: Date; basis: DeadlineBasis } {
  return computeDeadline(calendar, now, acceptSpec(rules, extraWorkdays));
}

/**
 * mediationEndBy from `now` (the case accepted, or an appeal sending it back to mediation) under
 * a ticket's rules: its set's mediation working days.
 */
export function mediationEndBy(
  calendar: CalendarSnapshot,
  now: Date,
  rules: TicketRules,
): { at: Date; basis: DeadlineBasis } {
  return computeDeadline(calendar, now, {
    workdays: rules.limits.mediationWorkdays,
    ruleSet: rules.ruleSet,
  });
}

/**
 * Tickets still in the status of a regulator-side deadline (`acceptBy`: escalated, `reviewBy`:
 * appealed) with that deadline past `now`, per office: the overdue metrics (the views flag each).
 */
export async function overduePerOffice(
  db: Queryable,
  field: 'acceptBy' | 'reviewBy',
  now: Date,
): Promise<{ officeId: string | null; n: number }[]> {
  const { column, status } = DEADLINE_FIELDS[field];
  const rows = await rowsOf<{ office_id: string | null; n: string }>(
    db,
    `SELECT office_id, count(*) AS n FROM complaints
      WHERE status = '${status}' AND ${column} < $1 GROUP BY office_id`,
    [now],
  );
  return rows.map((r) => ({ officeId: r.office_id, n: Number(r.n) }));
}

/** The merchant's first action on a ticket is its first response. */
export function firstResponse(t: ComplaintRow, actor: Actor, now: Date): Record<string, unknown> {
  return actor.role === 'merchant' && !t.first_response_at ? { first_response_at: now } : {};
}

export function requirePending(t: ComplaintRow, offerId: string): void {
  if (t.pending_offer_id !== offerId) {
    throw new DomainError(
      'INVALID_TRANSITION',
      `offer ${offerId} is not the pending offer of this complaint`,
    );
  }
}

/** The pending offers of tickets leaving the merchant phase lapse (one statement, if any). */
export async function lapsePendingOffers(
  tx: Queryable,
  tickets: readonly Pick<ComplaintRow, 'pending_offer_id'>[],
  now: Date,
): Promise<void> {
  const offers = tickets.flatMap((t) => (t.pending_offer_id ? [t.pending_offer_id] : []));
  if (!offers.length) return;
  await tx.query(
    `UPDATE complaint_offers SET status = 'lapsed', decided_at = $2 WHERE id = ANY($1::uuid[]) AND status = 'pending'`,
    [offers, now],
  );
}
