import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { escapeLiteral } from 'pg';
import type { QueryResult } from 'pg';
import { DomainError, UNIQUE_VIOLATION, pgCode } from '@app/shared';
import { obtainClient } from '../batch-tx';
import type { NormalizedRefund } from './normalized-refund';
import type { Received } from '../verifiers/normalized-receipt';
import {
  RefundRow,
  RefundView,
  refundFingerprint,
  refundGateLock,
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
export interface IncomingRefund extends Received {
  refund: NormalizedRefund;
}

export type RefundRecordResult =
  | { kind: 'recorded'; refund: RefundView; created: boolean }
  /** Alipay: a notification whose refund_fee adds nothing to what is already recorded. */
  | { kind: 'nothing_new'; reason: string };

/**
 * One statement, after the trade's locks: the refund stored under the key, the receipt, the
 * trade's refunds so far, which rule (if any) refuses the refund, and the insert when none does —
 * so a refund is either stored (`refusal` null: the INSERT ran on that one row and returned it, or
 * the statement failed) or refused for the reason given, never neither.
 * $1 provider, $2 trade_no, $3 refund_no, $4 amount (null: Alipay, from the running total $5),
 * $6 currency, $7 refunded_at, $8 fingerprint, $9 raw, $10 its content type.
 */
const RECORD_REFUND = `
  WITH ex AS (SELECT * FROM refunds f
               WHERE f.provider = $1 AND f.refund_no = $3 AND ${refundMonthByKey('f', '$1', '$3')}),
       rc AS (SELECT r.id, r.amount_minor, rtrim(r.currency) AS currency FROM receipts r
               WHERE r.provider = $1 AND r.trade_no = $2 AND ${receiptMonthByKey('r', '$1', '$2')}),
       tot AS (SELECT coalesce(sum(amount_minor), 0) AS recorded FROM refunds
                WHERE provider = $1 AND trade_no = $2),
       d AS (
         SELECT a.amount, a.recorded,
                CASE WHEN EXISTS (SELECT 1 FROM ex) THEN 'stored'
                     WHEN a.amount <= 0 THEN 'nothing_new'
                     WHEN EXISTS (SELECT 1 FROM rc WHERE a.recorded + a.amount > rc.amount_minor)
                       THEN 'exceeds'
                     WHEN EXISTS (SELECT 1 FROM rc WHERE rc.currency <> $6::text) THEN 'currency'
                END AS refusal
           FROM (SELECT coalesce($4::bigint, $5::bigint - tot.recorded) AS amount, tot.recorded
                   FROM tot) a),
       ins AS (
         INSERT INTO refunds (provider, refund_no, trade_no, receipt_id, amount_minor, currency,
                              refunded_at, fingerprint, raw, raw_content_type)
         SELECT $1::text, $3::text, $2::text, (SELECT id FROM rc), d.amount, $6::text,
                $7::timestamptz, $8::text, $9::text, $10::text
           FROM d WHERE d.refusal IS NULL
         RETURNING *)
  SELECT d.refusal, (SELECT to_jsonb(ex.*) FROM ex) AS existing,
         (SELECT to_jsonb(ins.*) FROM ins) AS inserted, (SELECT id FROM rc) AS receipt_id,
         (SELECT amount_minor FROM rc) AS paid, (SELECT currency FROM rc) AS currency,
         d.recorded, d.amount
    FROM d`;

/** RECORD_REFUND's answer: which rule refused the refund, or the refund stored. */
type RecordState = { amount: string; recorded: string } & (
  | { refusal: null; inserted: RefundRow }
  | { refusal: 'stored'; existing: RefundRow }
  | { refusal: 'nothing_new' }
  | { refusal: 'exceeds'; receipt_id: string; paid: string }
  | { refusal: 'currency'; currency: string }
);

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
   * of one trade are serialised by transaction-scoped advisory locks — the refunds' gate, shared
   * (refundGateLock: a batch holds it exclusively), then the bucket of (provider, tradeNo)
   * (REFUND_LOCK_BUCKETS) — so "total so far minus recorded" (Alipay) and the cap at the amount
   * paid are computed on a stable sum; the key (refund_keys, claimed by the table's insert
   * trigger: a unique violation as with a unique index) settles the rest (the same refundNo under
   * another trade).
   */
  async record(incoming: IncomingRefund): Promise<RefundRecordResult> {
    const { refund } = incoming;
    const fingerprint = refundFingerprint(refund);
    const [k1, k2] = tradeLockKey(refund.provider, refund.tradeNo);
    // One round trip, one simple query (the values inlined as escaped literals): BEGIN, the
    // locks, the statement that reads, applies the rules and inserts, COMMIT. Each statement of
    // a simple query takes its own snapshot, so the reads see every refund of the trade committed
    // before the locks were granted. A failure leaves the transaction aborted (COMMIT not run).
    const values = [
      refund.provider,
      refund.tradeNo,
      refund.refundNo,
      refund.amountMinor ?? null,
      refund.refundedTotalMinor ?? 0,
      refund.currency,
      refund.refundedAt.toISOString(),
      fingerprint,
      incoming.raw,
      incoming.contentType,
    ].map((v) => (v === null ? 'NULL' : escapeLiteral(String(v))));
    const sql =
      `BEGIN; ${refundGateLock('shared')}; SELECT pg_advisory_xact_lock(${k1}, ${k2}); ` +
      `${RECORD_REFUND.replace(/\$(\d+)/g, (_, i: string) => values[Number(i) - 1])}; COMMIT`;
    const [client, release] = await obtainClient(this.db);
    let broken: Error | undefined;
    try {
      const results = (await client.query(sql)) as unknown as QueryResult<RecordState>[];
      const state = results[3].rows[0];
      switch (state.refusal) {
        case null:
          return { kind: 'recorded', refund: toView(reviveRefund(state.inserted)), created: true };
        case 'stored':
          return this.again(reviveRefund(state.existing), fingerprint);
        case 'nothing_new':
          return {
            kind: 'nothing_new',
            reason: `refunded total ${refund.refundedTotalMinor} is already recorded for trade ${refund.tradeNo}`,
          };
        case 'exceeds': {
          const [paid, already] = [Number(state.paid), Number(state.recorded)];
          throw new DomainError(
            'REFUND_EXCEEDS_PAYMENT',
            `refunds of ${already + Number(state.amount)} would exceed the ${paid} paid for trade ${refund.tradeNo}`,
            { receiptId: state.receipt_id, paidMinor: paid, refundedMinor: already },
          );
        }
        case 'currency':
          throw new DomainError(
            'VALIDATION_FAILED',
            `the refund is in ${refund.currency}, the payment in ${state.currency}`,
            {},
            [{ field: 'currency', message: `must be ${state.currency}` }],
          );
      }
    } catch (e) {
      if (e instanceof DomainError) throw e;
      // The statements did not all run: end the aborted transaction (a connection that cannot
      // is closed rather than handed back to the pool).
      await client.query('ROLLBACK').catch((re: Error) => {
        broken = re;
      });
      // The same refundNo stored meanwhile under another trade (another advisory lock).
      if (pgCode(e) !== UNIQUE_VIOLATION) throw e;
      const existing = await this.byKey(this.db.query.bind(this.db), refund);
      if (!existing) throw e;
      return this.again(existing, fingerprint);
    } finally {
      release(broken);
    }
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
