/** Shapes of the public API (see /docs) that the dashboards use. */

export type Role = 'consumer' | 'merchant' | 'regulator' | 'admin';

// The domain's vocabulary, from its one home (a file without imports, bundled as it is).
export {
  AMOUNT_TYPES,
  CATEGORIES,
  DECLINE_REASONS,
  DEMAND_TYPES,
  MERCHANT_PHASE_STATUSES as MERCHANT_PHASE,
  TERMINAL_STATUSES as TERMINAL,
  TICKET_STATUSES,
} from '../../../libs/complaints/src/vocabulary';
import type {
  Category,
  DeclineReason,
  DemandType,
  TicketStatus,
} from '../../../libs/complaints/src/vocabulary';
export type { Category, DeclineReason, DemandType, TicketStatus };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Receipt {
  id: string;
  provider: string;
  tradeNo: string;
  payerId: string;
  accountId: string;
  merchantId: string | null;
  storeId: string | null;
  regionCode: string | null;
  /** The district's name (GB/T 2260), from the API. */
  regionName?: string | null;
  amountMinor: number;
  currency: string;
  paidAt: string;
  subject: string;
  complaintId: string | null;
  /** Refunds recorded for this payment (never more than the amount paid). */
  refundedMinor?: number;
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
  merchantName?: string;
}

export interface Ticket {
  id: string;
  number: string;
  status: TicketStatus;
  receiptId: string;
  consumerId: string;
  merchantId: string;
  storeId: string;
  regionCode: string;
  /** The district's name (GB/T 2260), from the API; the code when unknown. */
  regionName?: string;
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
  escalationReason: string | null;
  acceptBy: string | null;
  acceptanceOverdue: boolean;
  acceptedAt: string | null;
  mediationEndBy: string | null;
  declineReason: DeclineReason | null;
  declineDetail: string | null;
  mediationOutcome: unknown;
  closedAt: string | null;
  settlement?: Settlement | null;
  settledVia?: string | null;
  withdrawReason?: string | null;
  ruleSet?: string | null;
  deadlineBasis?: Record<string, 'official' | 'estimated'>;
  extensions?: { deadline: string; workdays: number; reason: string; at: string }[];
  appealableUntil: string | null;
  reviewBy: string | null;
  appealReviewOverdue: boolean;
  appeal: {
    from: TicketStatus;
    reason: string;
    appealedAt: string;
    reviewBy: string;
    outcome: 'upheld' | 'overturned' | null;
    note: string | null;
    decidedAt: string | null;
  } | null;
  createdAt: string;
  updatedAt: string;
  serialComplainant?: boolean;
  /** Once escalated (consumer, office, admin): the office that has the case. */
  officeName?: string | null;
  /** Once escalated (consumer, office, admin): what the case packet still needs. */
  casePacket?: { complete: boolean; missing: string[] };
}

/** An accepted offer being carried out (settling) or carried out (resolved). */
export interface Settlement {
  offerId: string;
  type: DemandType;
  amountMinor: number | null;
  settleBy: string;
  refundedMinor: number;
  settledAt: string | null;
  settledVia: string | null;
}

export interface Offer {
  id: string;
  type: DemandType;
  amountMinor: number | null;
  note: string | null;
  status: 'pending' | 'accepted' | 'rejected' | 'superseded' | 'lapsed' | 'expired';
  rejectReason: string | null;
  createdAt: string;
  decidedAt: string | null;
  expiresAt?: string | null;
}

export interface TrailEvent {
  seq: number;
  type: string;
  actor: { role: string; id: string | null };
  at: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface Verify {
  valid: boolean;
  length: number;
  firstInvalidSeq?: number;
}

export interface Merchant {
  id: string;
  name: string;
  creditCode: string;
}

export interface Store {
  id: string;
  merchantId: string;
  name: string;
  address: string;
  regionCode: string;
  regionName?: string;
}

export interface Office {
  id: string;
  name: string;
  kind?: string;
  regionCodes: string[];
  /** The names of regionCodes, same order (province, city or district). */
  regionNames?: string[];
}

export interface SelfResolution {
  from?: string;
  to?: string;
  /** The region asked for, and its name (GB/T 2260). */
  regionCode?: string | null;
  regionName?: string | null;
  selfResolved: number;
  /** Settled by a recorded refund or the consumer's confirmation. */
  verifiedSelfResolved?: number;
  escalated: number;
  withdrawn: number;
  open: number;
  rate: number | null;
  verifiedRate?: number | null;
  merchantOnTimeResponseRate: number | null;
  medianHoursToResolve: number | null;
  byDay: { day: string; selfResolved: number; escalated: number; rate: number | null }[];
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: { field: string; message: string }[];
  [extra: string]: unknown;
}

export interface TicketStreamEvent {
  ticket: Ticket;
  lastEventType: string | null;
}
