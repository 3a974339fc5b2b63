import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { ComplaintRow, ticketView } from '../complaint.row';
import type { TicketView } from '../complaint.types';
import type { PendingEvent } from '../trail';

/**
 * Which ticket events a merchant's webhook is told about: a new ticket, each thing the consumer
 * does on it, and the worker escalating it at a deadline. The merchant's own actions are not
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

/**
 * Called in the ticket's transaction (the outbox): queues a delivery when the event is one the
 * merchant is told about and the merchant has a webhook URL. `ticket` is the row as this
 * transaction leaves it.
 */
export async function enqueueWebhook(
  tx: EntityManager,
  ticket: ComplaintRow,
  event: PendingEvent,
  piiKey: Buffer,
): Promise<void> {
  const type = webhookTypeOf(event);
  if (!type) return;
  const id = randomUUID();
  await tx.query(
    `INSERT INTO webhook_deliveries (id, merchant_id, complaint_id, event_seq, type, payload, next_attempt_at, created_at)
     SELECT $1, m.id, $3, $4, $5, $6::jsonb, $7, $7 FROM merchants m WHERE m.id = $2 AND m.webhook_url IS NOT NULL`,
    [
      id,
      ticket.merchant_id,
      ticket.id,
      event.seq,
      type,
      JSON.stringify(webhookPayload(id, type, ticket, event, piiKey)),
      event.at,
    ],
  );
}
