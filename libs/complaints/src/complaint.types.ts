import type { TicketStatus } from './lifecycle';
import type { ViewerAction } from './policy/actions';

export {
  MONEY_OFFER_TYPES,
  SETTLED_VIA,
  VERIFIED_SETTLED_VIA,
  APPEAL_OUTCOMES,
  AMOUNT_TYPES,
  CATEGORIES,
  DECLINE_REASONS,
  DEMAND_TYPES,
  REFUND_TYPES,
} from './vocabulary';
import type { AppealOutcome, Category, DeclineReason, DemandType, SettledVia } from './vocabulary';
export type { AppealOutcome, Category, DeclineReason, DemandType, SettledVia };

export const ESCALATION_REASONS = [
  'merchant_no_response',
  'unresolved_in_time',
  'consumer_request',
  'settlement_not_fulfilled',
] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

export type OfferStatus = 'pending' | 'accepted' | 'rejected' | 'superseded' | 'lapsed' | 'expired';

export interface Demand {
  type: DemandType;
  amountMinor?: number | null;
}

export interface OrderSnapshot {
  tradeNo: string;
  provider: string;
  amountMinor: number;
  currency: string;
  paidAt: string;
  subject: string;
  storeName: string;
  storeAddress: string;
  merchantName: string;
}

export interface OfferView {
  id: string;
  type: DemandType;
  amountMinor: number | null;
  note: string | null;
  status: OfferStatus;
  rejectReason: string | null;
  createdAt: string;
  decidedAt: string | null;
  /** A pending offer can be accepted until then (made + OFFER_RESPONSE_SLA). */
  expiresAt: string | null;
}

/** An accepted offer being carried out (status settling) or carried out (resolved). */
export interface SettlementView {
  offerId: string;
  type: DemandType;
  amountMinor: number | null;
  settleBy: string;
  /** Refunds recorded for the receipt since the ticket was opened. */
  refundedMinor: number;
  settledAt: string | null;
  settledVia: SettledVia | null;
}

export type WithdrawReason = 'consumer' | 'consumer_no_reply';

export interface TicketView {
  id: string;
  number: string;
  status: TicketStatus;
  receiptId: string;
  consumerId: string;
  merchantId: string;
  storeId: string;
  regionCode: string;
  /** The district's name (GB/T 2260), or the code when the dataset does not know it. */
  regionName: string;
  order: OrderSnapshot;
  category: Category;
  demand: { type: DemandType; amountMinor: number | null };
  description: string;
  contactPhone: string | null;
  merchantRespondBy: string;
  resolveBy: string;
  firstResponseAt: string | null;
  pendingOfferId: string | null;
  officeId: string | null;
  escalatedAt: string | null;
  escalationReason: EscalationReason | null;
  acceptBy: string | null;
  acceptanceOverdue: boolean;
  acceptedAt: string | null;
  mediationEndBy: string | null;
  declineReason: DeclineReason | null;
  declineDetail: string | null;
  mediationOutcome: unknown;
  closedAt: string | null;
  /** null until an offer was accepted; resolved tickets from before verification: settledVia legacy. */
  settlement: SettlementView | null;
  settledVia: SettledVia | null;
  withdrawReason: WithdrawReason | null;
  /** The rule set the ticket was escalated under (kept through transfers). */
  ruleSet: string | null;
  /** Per deadline field (acceptBy, mediationEndBy, reviewBy): whether its calendar was official or estimated. */
  deadlineBasis: Record<string, 'official' | 'estimated'>;
  extensions: { deadline: string; workdays: number; reason: string; at: string }[];
  /** End of the consumer's appeal window (declined / mediation_failed, not yet appealed), else null. */
  appealableUntil: string | null;
  /** The review deadline of the appeal (working days, the ticket's rule set). */
  reviewBy: string | null;
  /** Appealed and past reviewBy without a decision (like acceptanceOverdue). */
  appealReviewOverdue: boolean;
  appeal: AppealView | null;
  createdAt: string;
  updatedAt: string;
  /** Regulators and admins only: the consumer files many tickets against many merchants. */
  serialComplainant?: boolean;
  /** What the viewer may do on the ticket now (policy/actions.ts), for the dashboards' buttons. */
  actions: ViewerAction[];
}

export interface AppealView {
  /** The appealed decision: declined | mediation_failed. */
  from: TicketStatus;
  reason: string;
  appealedAt: string;
  reviewBy: string;
  outcome: 'upheld' | 'overturned' | null;
  note: string | null;
  decidedAt: string | null;
}

export interface NewComplaint {
  receiptId: string;
  category: Category;
  demand: Demand;
  description: string;
  contactPhone?: string;
}
