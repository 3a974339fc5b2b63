import type { TicketStatus } from './lifecycle';

export const CATEGORIES = [
  'quality',
  'not_as_described',
  'overcharge',
  'refund',
  'service',
  'safety',
  'fraud',
  'other',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const DEMAND_TYPES = [
  'refund',
  'partial_refund',
  'return',
  'exchange',
  'repair',
  'compensation',
  'apology',
  'other',
] as const;
export type DemandType = (typeof DEMAND_TYPES)[number];
/** Demands and offers of these types name an amount. */
export const AMOUNT_TYPES: readonly DemandType[] = ['refund', 'partial_refund', 'compensation'];
/** A refund cannot exceed what was paid; compensation may (e.g. statutory triple damages). */
export const REFUND_TYPES: readonly DemandType[] = ['refund', 'partial_refund'];

export const ESCALATION_REASONS = [
  'merchant_no_response',
  'unresolved_in_time',
  'consumer_request',
] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

/**
 * Grounds for not accepting a complaint (不予受理), after the national complaint-handling
 * measures: outside the office's duties or jurisdiction; already before a court or arbitration;
 * already handled by another body; no clear claim or a repeat without new facts; older than the
 * limitation period; the consumer's identity could not be confirmed; other (explain in detail).
 */
export const DECLINE_REASONS = [
  'outside_jurisdiction',
  'court_or_arbitration',
  'handled_elsewhere',
  'no_clear_claim',
  'time_barred',
  'identity_unverified',
  'other',
] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

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
  createdAt: string;
  updatedAt: string;
  /** Regulators and admins only: the consumer files many tickets against many merchants. */
  serialComplainant?: boolean;
}

export interface NewComplaint {
  receiptId: string;
  category: Category;
  demand: Demand;
  description: string;
  contactPhone?: string;
}
