import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { DELIVERY_STATES, WEBHOOK_EVENTS } from '@app/complaints';
import type { DeliveryState } from '@app/complaints';
import { TicketResponse } from '../complaints/complaints.dto';
import { ListQuery } from '../http/list-query.dto';

// One entry per type (an escalation by the consumer and by the worker share `complaint.escalated`).
const WEBHOOK_TYPES = [...new Set(WEBHOOK_EVENTS.map((e) => e.type))];

/** How a merchant's endpoint is called; shown on the routes that issue or manage webhooks. */
export const WEBHOOK_DOC = [
  'Hejie POSTs JSON to the merchant’s webhookUrl when a ticket is opened against it (`complaint.created`) and on each consumer action (`complaint.message`, `complaint.offer_accepted`, `complaint.offer_rejected`, `complaint.withdrawn`, `complaint.escalated`), when an accepted offer is settled (`complaint.settled`: by a refund seen, the consumer, or no objection), when an offer expires unanswered (`complaint.offer_expired`) and when the consumer attaches evidence (`complaint.attachment_added`: `data` is the trail event — attachment id, filename, content type, size, sha256, note — never the bytes or a link to them; the merchant downloads it through the API); the merchant’s own actions are not echoed.',
  'Headers: `X-Hejie-Event` (the type), `X-Hejie-Delivery` (the delivery id, the same on every retry: dedupe on it), `X-Hejie-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(webhookSecret, "<t>.<raw body>")>`. Verify over the raw bytes, compare in constant time, and refuse a `t` more than 5 minutes away from now.',
  'Body: `{ id, type, occurredAt, eventSeq, complaint, data }`, where `complaint` is the ticket as the merchant sees it through the API (the consumer’s phone masked) and `data` the trail event’s data.',
  'Any 2xx within WEBHOOK_TIMEOUT (5 s, the whole attempt) is delivered; anything else (redirects included) is retried after WEBHOOK_BACKOFF × 2^(attempts−1) (10 s doubling, at most 1 h), until WEBHOOK_MAX_ATTEMPTS (8) attempts (an attempt counts from its start), then the delivery is dead and can be retried through the API (WEBHOOK_MANUAL_RETRIES, 3, per delivery per 24 h). Deliveries are at least once and not ordered.',
  'The URL must be https:// and resolve to public addresses only, checked when set and again, on the address dialled, at each attempt. At most 1 KiB of your answer is read (sent `Accept-Encoding: identity`, never decompressed); `lastError` is generic (`HTTP 500`, `timeout`, `connection refused`, …) and never contains your answer.',
].join('\n\n');

export class WebhookSecretResponse {
  @ApiProperty({
    example: 'whsec_3q2-7wE7m1Yp0Qm0cQ0xJx5yE6m3oQ0U7nq8VQb6y9k',
    description:
      'the HMAC-SHA256 key for X-Hejie-Signature (the whole string, UTF-8); shown only in this response',
  })
  webhookSecret: string;
}

export class DeliveryListQuery extends ListQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATES })
  @IsOptional()
  @IsIn(DELIVERY_STATES)
  state?: DeliveryState;
}

export class WebhookPayloadDto {
  @ApiProperty({ description: 'the delivery id (X-Hejie-Delivery)' }) id: string;
  @ApiProperty({ enum: WEBHOOK_TYPES }) type: string;
  @ApiProperty() occurredAt: string;
  @ApiProperty({ description: 'the event’s seq in GET /v1/complaints/:id/events' })
  eventSeq: number;
  @ApiProperty({ type: TicketResponse }) complaint: TicketResponse;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, unknown>;
}

export class WebhookDeliveryResponse {
  @ApiProperty() id: string;
  @ApiProperty() complaintId: string;
  @ApiProperty() eventSeq: number;
  @ApiProperty({ enum: WEBHOOK_TYPES }) type: string;
  @ApiProperty({ enum: DELIVERY_STATES }) state: string;
  @ApiProperty({ description: 'attempts made (a successful one counts too)' }) attempts: number;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'the most recent failure (e.g. "HTTP 500: …"), kept after a later success',
  })
  lastError: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'pending only' })
  nextAttemptAt: string | null;
  @ApiProperty({ nullable: true, type: String }) lastAttemptAt: string | null;
  @ApiProperty({ nullable: true, type: String }) deliveredAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: WebhookPayloadDto, description: 'the body every attempt sends' })
  payload: WebhookPayloadDto;
}
