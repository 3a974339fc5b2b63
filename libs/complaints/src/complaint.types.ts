import type { TicketStatus } from './lifecycle';

export {
  APPEAL_OUTCOMES,
  AMOUNT_TYPES,
  CATEGORIES,
  DECLINE_REASONS,
  DEMAND_TYPES,
  REFUND_TYPES,
} from './vocabulary';
import type { AppealOutcome, Category, DeclineReason, DemandType } from './vocabulary';
export type { AppealOutcome, Category, DeclineReason, DemandType };

export const ESCALATION_REASONS = [
  'merchant_no_response',
  'unresolved_in_time',
  'consumer_request',
] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

export type OfferStatus = 'pending' | 'accepted' | 'rejected' | 'superseded' | 'lapsed';

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
}

export interface TicketView {
  id: string;
  number: string;
  status: TicketStatus;
  receiptId: string;
  consumerId: string;
  merchantId: string;
  storeId: string;
  regionCode: string;
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
