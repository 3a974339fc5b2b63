/** Shapes of the public API (see /docs) that the dashboards use. */

export type Role = 'consumer' | 'merchant' | 'regulator' | 'admin';

export const TICKET_STATUSES = [
  'awaiting_merchant',
  'in_negotiation',
  'resolved',
  'withdrawn',
  'escalated',
  'mediating',
  'declined',
  'mediated',
  'mediation_failed',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const MERCHANT_PHASE: readonly TicketStatus[] = ['awaiting_merchant', 'in_negotiation'];
export const TERMINAL: readonly TicketStatus[] = [
  'resolved',
  'withdrawn',
  'declined',
  'mediated',
  'mediation_failed',
];

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
  amountMinor: number;
  currency: string;
  paidAt: string;
  subject: string;
  complaintId: string | null;
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
  createdAt: string;
  updatedAt: string;
  serialComplainant?: boolean;
}

export interface Offer {
  id: string;
  type: DemandType;
  amountMinor: number | null;
  note: string | null;
  status: 'pending' | 'accepted' | 'rejected' | 'superseded' | 'lapsed';
  rejectReason: string | null;
  createdAt: string;
  decidedAt: string | null;
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
}

export interface Office {
  id: string;
  name: string;
  kind?: string;
  regionCodes: string[];
}

export interface SelfResolution {
  from?: string;
  to?: string;
  selfResolved: number;
  escalated: number;
  withdrawn: number;
  open: number;
  rate: number | null;
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
