import { regionName } from '@app/directory';
import { openFor } from '@app/shared';
import type { Actor } from '@app/shared';
import type { TicketStatus } from './lifecycle';
import type { WorkingDayCalendar } from './lifecycle/working-days';
import type { AppealOutcome } from './vocabulary';
import { appealFields } from './appeals/appeal-view';
import { ticketActions } from './policy/actions';
import type {
  Category,
  DeclineReason,
  DemandType,
  EscalationReason,
  OfferStatus,
  OfferView,
  OrderSnapshot,
  SettledVia,
  SettlementView,
  TicketView,
  WithdrawReason,
} from './complaint.types';

/** A row of `complaints` as PostgreSQL returns it. */
export interface ComplaintRow {
  id: string;
  number: string;
  status: TicketStatus;
  receipt_id: string;
  consumer_id: string;
  merchant_id: string;
  store_id: string;
  region_code: string;
  order_snapshot: OrderSnapshot;
  category: Category;
  demand_type: DemandType;
  demand_amount_minor: string | null;
  description: string;
  contact_phone_enc: string | null;
  contact_phone_masked: string | null;
  idempotency_key: string | null;
  merchant_respond_by: Date;
  resolve_by: Date;
  first_response_at: Date | null;
  pending_offer_id: string | null;
  office_id: string | null;
  escalated_at: Date | null;
  escalation_reason: EscalationReason | null;
  accept_by: Date | null;
  accepted_at: Date | null;
  mediation_end_by: Date | null;
  decline_reason: DeclineReason | null;
  decline_detail: string | null;
  mediation_outcome: unknown;
  closed_at: Date | null;
  settlement_offer_id?: string | null;
  settlement_type?: DemandType | null;
  settlement_amount_minor?: string | null;
  settle_by?: Date | null;
  settlement_refunded_minor?: string | null;
  settled_at?: Date | null;
  settled_via?: SettledVia | null;
  withdraw_reason?: WithdrawReason | null;
  /** Issue 15 (migration CalendarAndRuleSets): absent from rows built before they existed. */
  rule_set?: string | null;
  rule_limits?: unknown;
  deadline_basis?: Record<string, { basis: 'official' | 'estimated' } & Record<string, unknown>>;
  extensions?: unknown;
  event_count: number;
  head_hash: string | null;
  created_at: Date;
  updated_at: Date;
  // Appeals (migration Appeals1764700700000); optional so rows built in code need not list them.
  decided_by?: string | null;
  decided_at?: Date | null;
  appealed_at?: Date | null;
  appeal_from?: TicketStatus | null;
  appeal_reason?: string | null;
  review_by?: Date | null;
  appeal_outcome?: AppealOutcome | null;
  appeal_note?: string | null;
  appeal_decided_by?: string | null;
  appeal_decided_at?: Date | null;
}

export interface OfferRow {
  id: string;
  complaint_id: string;
  type: DemandType;
  amount_minor: string | null;
  note: string | null;
  status: OfferStatus;
  reject_reason: string | null;
  created_by: string;
  created_at: Date;
  decided_at: Date | null;
  expires_at?: Date | null;
  reminded_at?: Date | null;
}

/** Who may see a ticket: policy/visibility.ts (re-exported for the evidence service). */
export { canSee } from './policy/visibility';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/**
 * A phone sealed under another key (PII_KEY rotated, a restored backup) or damaged cannot be
 * opened: show its masked form rather than fail, since one such row would otherwise turn every
 * list that contains it into a 500 for admins and offices.
 */
function clearPhone(
  id: string,
  sealed: string,
  masked: string | null,
  piiKey: Buffer,
): string | null {
  try {
    return openFor(piiKey, 'phone', id, sealed);
  } catch {
    return masked;
  }
}

/**
 * The ticket as this actor may see it. Merchants get the consumer's phone masked; the consumer,
 * the office working the case and admins get it in clear.
 */
/**
 * The ticket as `actor` sees it at `now`. `calendar`: the working-day calendar the appeal window
 * (appealableUntil, the `appeal` action) is counted on — CalendarService's snapshot, as the appeal
 * itself is checked; without one, the library's data and the estimate.
 */
export function ticketView(
  row: ComplaintRow,
  actor: Actor,
  piiKey: Buffer,
  now: Date,
  calendar?: WorkingDayCalendar,
): TicketView {
  let contactPhone: string | null = null;
  if (row.contact_phone_enc) {
    contactPhone =
      actor.role === 'merchant'
        ? row.contact_phone_masked
        : clearPhone(row.id, row.contact_phone_enc, row.contact_phone_masked, piiKey);
  }
  return {
    id: row.id,
    number: row.number,
    status: row.status,
    receiptId: row.receipt_id,
    consumerId: row.consumer_id,
    merchantId: row.merchant_id,
    storeId: row.store_id,
    regionCode: row.region_code,
    regionName: regionName(row.region_code),
    order: row.order_snapshot,
    category: row.category,
    demand: {
      type: row.demand_type,
      amountMinor: row.demand_amount_minor === null ? null : Number(row.demand_amount_minor),
    },
    description: row.description,
    contactPhone,
    merchantRespondBy: row.merchant_respond_by.toISOString(),
    resolveBy: row.resolve_by.toISOString(),
    firstResponseAt: iso(row.first_response_at),
    pendingOfferId: row.pending_offer_id,
    officeId: row.office_id,
    escalatedAt: iso(row.escalated_at),
    escalationReason: row.escalation_reason,
    acceptBy: iso(row.accept_by),
    acceptanceOverdue:
      row.status === 'escalated' &&
      row.accept_by !== null &&
      row.accept_by.getTime() < now.getTime(),
    acceptedAt: iso(row.accepted_at),
    mediationEndBy: iso(row.mediation_end_by),
    declineReason: row.decline_reason,
    declineDetail: row.decline_detail,
    mediationOutcome: row.mediation_outcome ?? null,
    closedAt: iso(row.closed_at),
    settlement: settlementView(row),
    settledVia: row.settled_via ?? null,
    withdrawReason: row.withdraw_reason ?? (row.status === 'withdrawn' ? 'consumer' : null),
    ruleSet: row.rule_set ?? null,
    deadlineBasis: Object.fromEntries(
      Object.entries(row.deadline_basis ?? {}).map(([field, b]) => [field, b.basis]),
    ),
    extensions: (Array.isArray(row.extensions) ? row.extensions : []).map(
      (e: { deadline: string; workdays: number; reason: string; at: string }) => ({
        deadline: e.deadline,
        workdays: e.workdays,
        reason: e.reason,
        at: e.at,
      }),
    ),
    ...appealFields(row, now, calendar),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    actions: ticketActions(row, actor, now, calendar),
  };
}

function settlementView(row: ComplaintRow): SettlementView | null {
  if (!row.settlement_offer_id || !row.settlement_type || !row.settle_by) return null;
  return {
    offerId: row.settlement_offer_id,
    type: row.settlement_type,
    amountMinor:
      row.settlement_amount_minor === null || row.settlement_amount_minor === undefined
        ? null
        : Number(row.settlement_amount_minor),
    settleBy: row.settle_by.toISOString(),
    refundedMinor: Number(row.settlement_refunded_minor ?? 0),
    settledAt: iso(row.settled_at ?? null),
    settledVia: row.settled_via ?? null,
  };
}

export function offerView(row: OfferRow): OfferView {
  return {
    id: row.id,
    type: row.type,
    amountMinor: row.amount_minor === null ? null : Number(row.amount_minor),
    note: row.note,
    status: row.status,
    rejectReason: row.reject_reason,
    createdAt: row.created_at.toISOString(),
    decidedAt: iso(row.decided_at),
    expiresAt: iso(row.expires_at ?? null),
  };
}
