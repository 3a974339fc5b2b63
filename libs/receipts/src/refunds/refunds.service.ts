import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { QueryRunner } from 'typeorm';
import { DomainError, UNIQUE_VIOLATION, pgCode } from '@app/shared';
import type { NormalizedRefund } from './normalized-refund';
import {
  RefundRow,
  RefundView,
  refundFingerprint,
  reviveRefund,
  toView,
  tradeLockKey,
} from './refund-rows';
import { RefundBatchImport, RefundBatchLine, RefundBatchResult } from './refund-batch';
import { receiptMonthByKey, refundMonthByKey } from '../partition-lookups';

export { REFUND_LOCK_BUCKETS, refundFingerprint } from './refund-rows';
export type { RefundView } from './refund-rows';
export { REFUND_BATCH_CHUNK_LINES } from './refund-batch';
export type { RefundBatchLine, RefundBatchResult } from './refund-batch';

/** A verified refund notification with the evidence it came in. */
export interface IncomingRefund {
  refund: NormalizedRefund;
  raw: string;
  contentType: string;
}

export type RefundRecordResult =
  | { kind: 'recorded'; refund: RefundView; created: boolean }
  /** Alipay: a notification whose refund_fee adds nothing to what is already recorded. */
  | { kind: 'nothing_new'; reason: string };

/**
 * The refunds store. Knows receipts (to match and cap), never tickets: the API and the worker
 * tell the complaints lib after a refund was recorded.
 */
@Injectable()
export class RefundsService {
  private readonly logger = new Logger(RefundsService.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Records one verified refund, idempotent on (provider, refundNo) under concurrency. Refunds
   * of one trade are serialised by a transaction-scoped advisory lock on the bucket of
   * (provider, tradeNo) (REFUND_LOCK_BUCKETS), so
   * "total so far minus recorded" (Alipay) and the cap at the amount paid are computed on a
   * stable sum; the key (refund_keys, claimed by the table's insert trigger: a unique violation
   * as with a unique index) settles the rest (the same refundNo under another trade).
   */
  async record(incoming: IncomingRefund): Promise<RefundRecordResult> {
    const { refund } = incoming;
    const fingerprint = refundFingerprint(refund);
    const [k1, k2] = tradeLockKey(refund.provider, refund.tradeNo);
    const qr = this.db.createQueryRunner('master');
    await qr.connect();
    let open = false;
    try {
      // One round trip: BEGIN and the trade's lock (integers computed here: no parameters, so
      // both statements go in one simple query). The reads then run in a statement of their own,
      // whose snapshot is taken after the lock was granted: they see every refund of the trade
      // committed before it.
      await qr.query(`BEGIN; SELECT pg_advisory_xact_lock(${k1}, ${k2})`);
      open = true;
      // One statement: the stored refund under the key, the receipt, the trade's refunds so far,
      // and the insert when all the rules allow it; the answer says which rule said no.
      const [state]: {
        existing: RefundRow | null;
        inserted: RefundRow | null;
        receipt_id: string | null;
        paid: string | null;
        currency: string | null;
        recorded: string;
        amount: string;
      }[] = await qr.query(
        `WITH ex AS (SELECT * FROM refunds f
                     WHERE f.provider = $1 AND f.refund_no = $3 AND ${refundMonthByKey('f', '$1', '$3')}),
              rc AS (SELECT r.id, r.amount_minor, r.currency FROM receipts r
                     WHERE r.provider = $1 AND r.trade_no = $2 AND ${receiptMonthByKey('r', '$1', '$2')}),
              tot AS (SELECT coalesce(sum(amount_minor), 0) AS recorded FROM refunds
                       WHERE provider = $1 AND trade_no = $2),
              amt AS (SELECT coalesce($4::bigint, $5::bigint - tot.recorded) AS amount, tot.recorded FROM tot),
              ins AS (
                INSERT INTO refunds (provider, refund_no, trade_no, receipt_id, amount_minor, currency,
                                     refunded_at, fingerprint, raw, raw_content_type)
                SELECT $1::text, $3::text, $2::text, (SELECT id FROM rc), amt.amount, $6::text,
                       $7::timestamptz, $8::text, $9::text, $10::text FROM amt
                 WHERE NOT EXISTS (SELECT 1 FROM ex) AND amt.amount > 0
                   AND NOT EXISTS (SELECT 1 FROM rc WHERE amt.recorded + amt.amount > rc.amount_minor
                                                       OR rtrim(rc.currency) <> $6::text)
                RETURNING *)
         SELECT (SELECT to_jsonb(ex.*) FROM ex) AS existing, (SELECT to_jsonb(ins.*) FROM ins) AS inserted,
                (SELECT id FROM rc) AS receipt_id, (SELECT amount_minor FROM rc) AS paid,
                (SELECT currency FROM rc) AS currency, amt.recorded, amt.amount
           FROM amt`,
        [
          refund.provider,
          refund.tradeNo,
          refund.refundNo,
          refund.amountMinor ?? null,
          refund.refundedTotalMinor ?? 0,
          refund.currency,
          refund.refundedAt,
          fingerprint,
          incoming.raw,
          incoming.contentType,
        ],
      );
      if (state.existing) {
        await this.end(qr, 'COMMIT');
        open = false;
        return this.again(reviveRefund(state.existing), fingerprint);
      }
      const already = Number(state.recorded);
      const amount = Number(state.amount);
      if (!state.inserted && amount <= 0) {
        await this.end(qr, 'COMMIT');
        open = false;
        return {
          kind: 'nothing_new',
          reason: `refunded total ${refund.refundedTotalMinor} is already recorded for trade ${refund.tradeNo}`,
        };
      }
      if (!state.inserted && state.receipt_id) {
        const paid = Number(state.paid);
        if (already + amount > paid) {
          throw new DomainError(
            'REFUND_EXCEEDS_PAYMENT',
            `refunds of ${already + amount} would exceed the ${paid} paid for trade ${refund.tradeNo}`,
            { receiptId: state.receipt_id, paidMinor: paid, refundedMinor: already },
          );
        }
        const currency = (state.currency ?? '').trim();
        throw new DomainError(
          'VALIDATION_FAILED',
          `the refund is in ${refund.currency}, the payment in ${currency}`,
          {},
          [{ field: 'currency', message: `must be ${currency}` }],
        );
      }
      if (!state.inserted)
        throw new Error(`refund ${refund.refundNo} was neither stored nor refused`);
      const row = reviveRefund(state.inserted);
      await this.end(qr, 'COMMIT');
      open = false;
      return { kind: 'recorded', refund: toView(row), created: true };
    } catch (e) {
      if (open) await this.end(qr, 'ROLLBACK').catch(() => undefined);
      // The same refundNo stored meanwhile under another trade (another advisory lock).
      if (pgCode(e) !== UNIQUE_VIOLATION) throw e;
      const existing = await this.byKey(this.db.query.bind(this.db), refund);
      if (!existing) throw e;
      return this.again(existing, fingerprint);
    } finally {
      await qr.release();
    }
  }

  private async end(qr: QueryRunner, how: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    await qr.query(how);
  }

  private async byKey(
    query: (sql: string, params: unknown[]) => Promise<RefundRow[]>,
    refund: NormalizedRefund,
  ): Promise<RefundRow | undefined> {
    const [row] = await query(
      `SELECT * FROM refunds f
        WHERE f.provider = $1 AND f.refund_no = $2 AND ${refundMonthByKey('f', '$1', '$2')}`,
      [refund.provider, refund.refundNo],
    );
    return row;
  }

  private again(existing: RefundRow, fingerprint: string): RefundRecordResult {
    if (existing.fingerprint !== fingerprint) {
      throw new DomainError(
        'RECEIPT_CONFLICT',
        `a different refund is already stored for ${existing.provider} refund ${existing.refund_no}`,
        { refundId: existing.id },
      );
    }
    return { kind: 'recorded', refund: toView(existing), created: false };
  }

  /** POST /v1/refunds/batch (refund-batch.ts): see RefundBatchImport.run. */
  recordBatch(
    lines: () => Iterable<RefundBatchLine>,
    contentType: string,
  ): Promise<RefundBatchResult> {
    return new RefundBatchImport(this.db, this.logger).run(lines, contentType);
  }

  /** The refunds of one payment, oldest first (GET /v1/receipts/:id). */
  async forTrade(provider: string, tradeNo: string): Promise<RefundView[]> {
    const rows: RefundRow[] = await this.db.query(
      `SELECT * FROM refunds WHERE provider = $1 AND trade_no = $2 ORDER BY refunded_at, received_at, id`,
      [provider, tradeNo],
    );
    return rows.map(toView);
  }
}
