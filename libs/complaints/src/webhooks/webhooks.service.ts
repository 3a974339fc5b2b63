import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  WEBHOOK_RESOLVER,
  decodeTimeIdCursor,
  openWebhookSecret,
  webhookSecretKeyId,
} from '@app/directory';
import type { WebhookResolver } from '@app/directory';
import { MerchantReads } from '@app/directory';
import { CLOCK, DEFAULT_LIMIT, DomainError, HEJIE_CONFIG, mapPage, pageOf } from '@app/shared';
import type { Clock, HejieConfig, Page } from '@app/shared';
import type { WebhookPayload, WebhookType } from './webhook-events';
import { signWebhook, webhookRetryDelayMs } from './webhook-signature';
import { WebhookHttp } from './webhook-http';

export const DELIVERY_STATES = ['pending', 'done', 'dead'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** Longest wait between two attempts, however many failed before. */
export const WEBHOOK_RETRY_CAP_MS = 3600_000;
/** Manual retries of one delivery are counted over this rolling window. */
export const MANUAL_RETRY_WINDOW_MS = 24 * 3600_000;
/** `lastError` of an attempt whose worker stopped before recording a result. */
export const INTERRUPTED_ATTEMPT = 'no result (the attempt was interrupted)';

export interface WebhookDeliveryView {
  id: string;
  complaintId: string;
  eventSeq: number;
  type: WebhookType;
  state: DeliveryState;
  /** Attempts started (counted when the attempt begins, so one cut short counts too). */
  attempts: number;
  /** The most recent failure, kept after a later success. */
  lastError: string | null;
  /** Pending only: when the next attempt is due (or, during an attempt, when its lease ends). */
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  /** The JSON body every attempt sends. */
  payload: WebhookPayload;
}

export interface DeliveryListQuery {
  state?: DeliveryState;
  limit?: number;
  cursor?: string;
}

export interface DeliveryRound {
  claimed: number;
  delivered: number;
  retrying: number;
  dead: number;
}

interface DeliveryRow {
  id: string;
  merchant_id: string;
  complaint_id: string;
  event_seq: number;
  type: WebhookType;
  payload: WebhookPayload;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: Date;
  last_attempt_at: Date | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
  manual_retries: number;
  manual_retry_window_at: Date | null;
}

interface ClaimedRow {
  id: string;
  merchant_id: string;
  type: WebhookType;
  payload: WebhookPayload;
  attempts: number;
  webhook_url: string;
  webhook_secret: string;
}

type Outcome = 'delivered' | 'retrying' | 'dead' | 'lease_lost';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function deliveryView(r: DeliveryRow): WebhookDeliveryView {
  return {
    id: r.id,
    complaintId: r.complaint_id,
    eventSeq: r.event_seq,
    type: r.type,
    state: r.state,
    attempts: r.attempts,
    lastError: r.last_error,
    nextAttemptAt: r.state === 'pending' ? r.next_attempt_at.toISOString() : null,
    lastAttemptAt: iso(r.last_attempt_at),
    deliveredAt: iso(r.delivered_at),
    createdAt: r.created_at.toISOString(),
    payload: r.payload,
  };
}

/**
 * Merchant webhooks from the transactional outbox (`webhook_deliveries`, written with the ticket
 * event): delivery with retries and a dead letter, and the merchant's view of it.
 */
@Injectable()
export class WebhooksService implements OnModuleDestroy {
  private readonly logger = new Logger(WebhooksService.name);
  private readonly http: WebhookHttp;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WEBHOOK_RESOLVER) resolve: WebhookResolver,
  ) {
    this.http = new WebhookHttp({
      resolve,
      allowPrivate: config.webhookAllowPrivate,
      timeoutMs: config.webhookTimeoutMs,
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.http.close();
  }

  /**
   * A delivery stays with one worker for its request's timeout plus a margin for the database
   * writes; if that worker dies meanwhile, the delivery is due again when the lease ends.
   */
  private get leaseMs(): number {
    return this.config.webhookTimeoutMs + 30_000;
  }

  /**
   * One round: claim up to `limit` due deliveries (SKIP LOCKED, so workers take disjoint rows)
   * and lease them by moving `next_attempt_at` to the lease's end, in one statement that commits
   * before any request is sent: no row lock or transaction is held across a merchant's slow
   * endpoint. The claim counts the attempt, so an attempt whose worker dies mid-request (a
   * receiver that crashes it, say) still uses up the budget: once the lease ends, a delivery
   * with no attempt left is dead. Each result is then written only if the lease is still ours
   * (the lease end is the fencing token), so a late answer cannot overwrite the attempt of a
   * worker that took over. A failure of one attempt never fails the round.
   */
  async deliverDue(limit: number): Promise<DeliveryRound> {
    const now = this.clock.now();
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    const max = this.config.webhookMaxAttempts;
    const [interrupted]: [{ id: string }[], number] = await this.db.query(
      `UPDATE webhook_deliveries SET state = 'dead', last_error = $3, next_attempt_at = $1
        WHERE state = 'pending' AND next_attempt_at <= $1 AND attempts >= $2
       RETURNING id`,
      [now, max, INTERRUPTED_ATTEMPT],
    );
    for (const r of interrupted) {
      this.logger.warn(`webhook delivery ${r.id} is dead: its last attempt was interrupted`);
    }
    const [claimed]: [ClaimedRow[], number] = await this.db.query(
      `WITH due AS (
         SELECT d.id FROM webhook_deliveries d JOIN merchants m ON m.id = d.merchant_id
          WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND d.attempts < $5
            AND m.webhook_url IS NOT NULL AND m.webhook_secret_key_id = $4
          ORDER BY d.next_attempt_at, d.id
          LIMIT $3
            FOR UPDATE OF d SKIP LOCKED)
       UPDATE webhook_deliveries d
          SET next_attempt_at = $2, attempts = d.attempts + 1, last_attempt_at = $1
         FROM due, merchants m
        WHERE d.id = due.id AND m.id = d.merchant_id
       RETURNING d.id, d.merchant_id, d.type, d.payload, d.attempts, m.webhook_url, m.webhook_secret`,
      [now, leaseUntil, limit, webhookSecretKeyId(this.config.piiKey), max],
    );
    const settled = await Promise.allSettled(claimed.map((row) => this.attempt(row, leaseUntil)));
    const outcomes = settled.map((s, i) => {
      if (s.status === 'fulfilled') return s.value;
      this.logger.error(`webhook delivery ${claimed[i].id}: ${String(s.reason)}`);
      return 'lease_lost' as Outcome;
    });
    const count = (o: Outcome) => outcomes.filter((x) => x === o).length;
    return {
      claimed: claimed.length,
      delivered: count('delivered'),
      retrying: count('retrying'),
      dead: count('dead'),
    };
  }

  private async attempt(row: ClaimedRow, leaseUntil: Date): Promise<Outcome> {
    let secret: string;
    try {
      secret = openWebhookSecret(row.webhook_secret, this.config.piiKey, row.merchant_id);
    } catch {
      return this.failed(row, leaseUntil, 'the signing secret cannot be opened: rotate it');
    }
    const body = JSON.stringify(row.payload);
    const error = await this.http.post(row.webhook_url, body, {
      'content-type': 'application/json',
      'user-agent': 'Hejie-Webhooks/1',
      'x-hejie-event': row.type,
      'x-hejie-delivery': row.id,
      'x-hejie-signature': signWebhook(secret, body, this.clock.now()),
    });
    if (error !== null) return this.failed(row, leaseUntil, error);
    const at = this.clock.now();
    const [, n]: [unknown[], number] = await this.db.query(
      `UPDATE webhook_deliveries SET state = 'done', delivered_at = $3
        WHERE id = $1 AND state = 'pending' AND next_attempt_at = $2`,
      [row.id, leaseUntil, at],
    );
    return n ? 'delivered' : this.leaseLost(row);
  }

  private async failed(row: ClaimedRow, leaseUntil: Date, error: string): Promise<Outcome> {
    const at = this.clock.now();
    const attempts = row.attempts; // counted by the claim
    const dead = attempts >= this.config.webhookMaxAttempts;
    const next = dead
      ? at
      : new Date(
          at.getTime() +
            webhookRetryDelayMs(attempts, this.config.webhookBackoffMs, WEBHOOK_RETRY_CAP_MS),
        );
    const [, n]: [unknown[], number] = await this.db.query(
      `UPDATE webhook_deliveries
          SET last_error = $3, state = $4, next_attempt_at = $5
        WHERE id = $1 AND state = 'pending' AND next_attempt_at = $2`,
      [row.id, leaseUntil, error, dead ? 'dead' : 'pending', next],
    );
    if (!n) return this.leaseLost(row);
    if (dead) {
      this.logger.warn(
        `webhook delivery ${row.id} (${row.type}) to merchant ${row.merchant_id} is dead after ${attempts} attempts: ${error}`,
      );
    }
    return dead ? 'dead' : 'retrying';
  }

  private leaseLost(row: ClaimedRow): Outcome {
    this.logger.warn(
      `webhook delivery ${row.id}: the lease ended before the result was recorded; another attempt follows`,
    );
    return 'lease_lost';
  }

  /** A merchant's deliveries, newest first. */
  async list(merchantId: string, q: DeliveryListQuery): Promise<Page<WebhookDeliveryView>> {
    await this.requireMerchant(merchantId);
    const limit = q.limit ?? DEFAULT_LIMIT;
    const params: unknown[] = [merchantId];
    const where = ['merchant_id = $1'];
    if (q.state) {
      params.push(q.state);
      where.push(`state = $${params.length}`);
    }
    const cursor = decodeTimeIdCursor(q.cursor);
    if (cursor) {
      params.push(cursor[0], cursor[1]);
      where.push(
        `(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
      );
    }
    params.push(limit + 1);
    const rows: DeliveryRow[] = await this.db.query(
      `SELECT * FROM webhook_deliveries WHERE ${where.join(' AND ')}
        ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return mapPage(
      pageOf(rows, limit, (r) => [r.created_at.toISOString(), r.id]),
      deliveryView,
    );
  }

  /**
   * A dead delivery goes back to pending, due now, with a fresh budget of attempts: at most
   * WEBHOOK_MANUAL_RETRIES times per delivery in a rolling 24 hours (counted from the first retry
   * of the window), else 429 RATE_LIMITED with `retryAfterSeconds`. One guarded UPDATE.
   */
  async retry(merchantId: string, deliveryId: string): Promise<WebhookDeliveryView> {
    const now = this.clock.now();
    const windowStart = new Date(now.getTime() - MANUAL_RETRY_WINDOW_MS);
    const fresh = `(manual_retry_window_at IS NULL OR manual_retry_window_at <= $4)`;
    const [rows]: [DeliveryRow[], number] = await this.db.query(
      `UPDATE webhook_deliveries
          SET state = 'pending', attempts = 0, next_attempt_at = $3,
              manual_retries = CASE WHEN ${fresh} THEN 1 ELSE manual_retries + 1 END,
              manual_retry_window_at = CASE WHEN ${fresh} THEN $3 ELSE manual_retry_window_at END
        WHERE id = $1 AND merchant_id = $2 AND state = 'dead'
          AND (${fresh} OR manual_retries < $5)
        RETURNING *`,
      [deliveryId, merchantId, now, windowStart, this.config.webhookManualRetries],
    );
    if (rows.length) return deliveryView(rows[0]);
    const [existing]: Pick<DeliveryRow, 'state' | 'manual_retry_window_at'>[] = await this.db.query(
      'SELECT state, manual_retry_window_at FROM webhook_deliveries WHERE id = $1 AND merchant_id = $2',
      [deliveryId, merchantId],
    );
    if (!existing) throw new DomainError('NOT_FOUND', `webhook delivery ${deliveryId} not found`);
    if (existing.state === 'dead' && existing.manual_retry_window_at) {
      const until = existing.manual_retry_window_at.getTime() + MANUAL_RETRY_WINDOW_MS;
      const retryAfterSeconds = Math.max(1, Math.ceil((until - now.getTime()) / 1000));
      throw new DomainError(
        'RATE_LIMITED',
        `this delivery was retried ${this.config.webhookManualRetries} times in 24 hours; retry after ${new Date(until).toISOString()}`,
        { retryAfterSeconds },
      );
    }
    throw new DomainError(
      'INVALID_TRANSITION',
      `only a dead delivery can be retried; this one is ${existing.state}`,
      { deliveryState: existing.state },
    );
  }

  private async requireMerchant(id: string): Promise<void> {
    if (!(await MerchantReads.exists(this.db, id)))
      throw new DomainError('NOT_FOUND', `merchant ${id} not found`);
  }
}
