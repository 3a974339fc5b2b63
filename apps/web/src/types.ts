/** Shapes of the public API (see /docs) that the dashboards use. */
import type { components, paths } from './api/schema';

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

/** The API's answers, from its OpenAPI document (api/schema.d.ts, `npm run gen:types`). */
type Schemas = components['schemas'];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type Receipt = Schemas['ReceiptResponse'];
export type OrderSnapshot = Schemas['OrderDto'];
export type Ticket = Schemas['TicketResponse'];
/** What the caller may do on a ticket now (the server's answer; buttons follow it). */
export type TicketAction = Schemas['TicketAction'];
/** An accepted offer being carried out (settling) or carried out (resolved). */
export type Settlement = Schemas['SettlementDto'];
export type Offer = Schemas['OfferResponse'];
export type TrailEvent = Schemas['EventResponse'];
export type Verify = Schemas['VerifyResponse'];
export type Merchant = Schemas['MerchantResponse'];
export type Store = Schemas['StoreResponse'];
export type Office = Schemas['OfficeResponse'];
export type SelfResolution = Schemas['SelfResolutionResponse'];
export type Attachment = Schemas['AttachmentResponse'];
export type CasePacket = Schemas['CasePacketResponse'];

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: { field: string; message: string }[];
  [extra: string]: unknown;
}

/**
 * One message of the live stream (GET /v1/stream, server-sent events): its `event` name and its
 * JSON `data`, as the API's document describes them.
 */
export type StreamMessage =
  paths['/v1/stream']['get']['responses'][200]['content']['text/event-stream'];
export type StreamEventName = StreamMessage['event'];
/** The JSON `data` of one stream event. */
export type StreamData<E extends StreamEventName> = Extract<StreamMessage, { event: E }>['data'];
/** `data` of the stream's `ticket` event: the ticket as the caller may see it now. */
export type TicketStreamEvent = StreamData<'ticket'>;
