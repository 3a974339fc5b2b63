import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { MerchantReads } from '@app/directory';
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
  await enqueueWebhooks(tx, [{ ticket, event }], piiKey);
}

/** A `webhook_deliveries` row to queue for one event, before the merchant's URL is checked. */
export interface WebhookDeliveryDraft {
  id: string;
  type: WebhookType;
  payload: WebhookPayload;
}

/**
 * The delivery the merchant is owed for this event (what enqueueWebhook queues), or null when
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

/**
 * enqueueWebhook for many tickets' events (the worker's batches): one statement for the
 * deliveries. For more than one event, the merchants that have a webhook URL are looked up first,
 * so that no payload is built for the others; the INSERT checks the URL again either way.
 */
export async function enqueueWebhooks(
  tx: EntityManager,
  items: readonly { ticket: ComplaintRow; event: PendingEvent }[],
  piiKey: Buffer,
): Promise<void> {
  let told = items.filter(({ event }) => webhookTypeOf(event) !== null);
  if (told.length > 1) {
    const ids = await MerchantReads.withWebhook(
      tx,
      told.map(({ ticket }) => ticket.merchant_id),
    );
    told = told.filter(({ ticket }) => ids.has(ticket.merchant_id));
  }
  if (!told.length) return;
  const rows = told.map((r) => ({ ...r, ...webhookDelivery(r.ticket, r.event, piiKey)! }));
  await tx.query(
    `INSERT INTO webhook_deliveries (id, merchant_id, complaint_id, event_seq, type, payload, next_attempt_at, created_at)
     SELECT u.id, m.id, u.complaint_id, u.event_seq, u.type, u.payload::jsonb, u.at, u.at
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::text[], $7::timestamptz[])
            AS u(id, merchant_id, complaint_id, event_seq, type, payload, at)
       JOIN merchants m ON m.id = u.merchant_id
      WHERE m.webhook_url IS NOT NULL`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.ticket.merchant_id),
      rows.map((r) => r.ticket.id),
      rows.map((r) => r.event.seq),
      rows.map((r) => r.type),
      rows.map((r) => JSON.stringify(r.payload)),
      rows.map((r) => r.event.at),
    ],
  );
}
