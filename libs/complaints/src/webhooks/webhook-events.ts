import { randomUUID } from 'node:crypto';
import { ComplaintRow, ticketView } from '../complaint.row';
import type { TicketView } from '../complaint.types';
import type { PendingEvent } from '../trail';

/**
 * Which ticket events a merchant's webhook is told about: a new ticket, each thing the consumer
 * does on it (evidence included), and the worker escalating it at a deadline. The merchant's own actions are not
 * echoed back to it.
 */
export const WEBHOOK_EVENTS = [
  { event: 'created', by: 'consumer', type: 'complaint.created' },
  { event: 'message', by: 'consumer', type: 'complaint.message' },
  { event: 'offer_accepted', by: 'consumer', type: 'complaint.offer_accepted' },
  { event: 'offer_rejected', by: 'consumer', type: 'complaint.offer_rejected' },
  { event: 'withdrawn', by: 'consumer', type: 'complaint.withdrawn' },
  { event: 'escalated', by: 'consumer', type: 'complaint.escalated' },
  { event: 'escalated', by: 'system', type: 'complaint.escalated' },
  // Settlement (issue 13): the outcome of an accepted offer, whoever decided it, and an offer
  // the consumer let expire.
  { event: 'settled', by: 'consumer', type: 'complaint.settled' },
  { event: 'settled', by: 'system', type: 'complaint.settled' },
  { event: 'offer_expired', by: 'system', type: 'complaint.offer_expired' },
  // Evidence (issue 14): the consumer's new attachment, described by its trail event (id,
  // filename, type, size, sha256, note); never its bytes nor a link to them.
  { event: 'attachment_added', by: 'consumer', type: 'complaint.attachment_added' },
] as const;
export type WebhookType = (typeof WEBHOOK_EVENTS)[number]['type'];

export function webhookTypeOf(event: Pick<PendingEvent, 'type' | 'actor'>): WebhookType | null {
  const rule = WEBHOOK_EVENTS.find((r) => r.event === event.type && r.by === event.actor.role);
  return rule?.type ?? null;
}

/** The JSON body of a delivery, the same bytes on every attempt. */
export interface WebhookPayload {
  /** The delivery id (also `X-Hejie-Delivery`): receivers dedupe on it. */
  id: string;
  type: WebhookType;
  occurredAt: string;
  /** The event's position in the ticket's trail (GET /v1/complaints/:id/events). */
  eventSeq: number;
  /** The ticket as its merchant sees it through the API at that moment (phone masked). */
  complaint: TicketView;
  /** The trail event's data (e.g. `{ body }` for a message). */
  data: unknown;
}

export function webhookPayload(
  deliveryId: string,
  type: WebhookType,
  ticket: ComplaintRow,
  event: PendingEvent,
  piiKey: Buffer,
): WebhookPayload {
  // The merchant's own view: never more than GET /v1/complaints/:id would show it.
  const merchant = { role: 'merchant' as const, sub: 'webhook', merchantId: ticket.merchant_id };
  return {
    id: deliveryId,
    type,
    occurredAt: event.at,
    eventSeq: event.seq,
    complaint: ticketView(ticket, merchant, piiKey, new Date(event.at)),
    data: event.data,
  };
}

/** A `webhook_deliveries` row to queue for one event, before the merchant's URL is checked. */
export interface WebhookDeliveryDraft {
  id: string;
  type: WebhookType;
  payload: WebhookPayload;
}

/**
 * The delivery the merchant is owed for this event (what the change writer queues, changes/change-writer.ts), or null when
 * the merchant is not told about it. The caller inserts it only when the merchant has a webhook
 * URL, in the event's own transaction or statement. `ticket` is the row as that write leaves it.
 */
export function webhookDelivery(
  ticket: ComplaintRow,
  event: PendingEvent,
  piiKey: Buffer,
): WebhookDeliveryDraft | null {
  const type = webhookTypeOf(event);
  if (!type) return null;
  const id = randomUUID();
  return { id, type, payload: webhookPayload(id, type, ticket, event, piiKey) };
}
