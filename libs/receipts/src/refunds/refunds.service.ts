import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError, UNIQUE_VIOLATION, pgCode } from '@app/shared';
import { obtainClient } from '../batch-tx';
import type { NormalizedRefund } from './normalized-refund';
import type { Received } from '../verifiers/normalized-receipt';
import {
  RefundRow,
  RefundView,
  refundFingerprint,
  refundGateKey,
  reviveRefund,
  toView,
  tradeLockKey,
} from './refund-rows';
import { RefundBatchImport, RefundBatchLine, RefundBatchResult } from './refund-batch';
import { refundMonthByKey } from '../partition-lookups';

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
 * One refund, one call (migration 1765000200000-RecordRefundFunction): the refunds' gate
 * (shared: a batch holds it exclusively) and the trade's bucket lock, then one statement that
 * reads the refund stored under the key, the receipt and the trade's refunds so far, names the
 * rule that refuses the refund (`refusal`) or inserts it — so a refund is either stored
 * (`refusal` null: the row in `inserted`, or the call failed) or refused for the reason given,
 * never neither. One round trip, one statement in its own implicit transaction (nothing to roll
 * back when it fails), and a plan PL/pgSQL keeps for the session instead of a statement parsed
 * and planned for every refund.
 * $1 provider, $2 trade_no, $3 refund_no, $4 amount (null: Alipay, from the running total $5),
 * $6 currency, $7 refunded_at, $8 fingerprint, $9 raw, $10 its content type, $11–$12 the gate's
 * lock keys, $13–$14 the trade's.
 */
const RECORD_REFUND = `SELECT * FROM hejie_record_refund($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                                                            $11, $12, $13, $14)`;

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
      ...refundGateKey(),
      ...tradeLockKey(refund.provider, refund.tradeNo),
    ];
    const [client, release] = await obtainClient(this.db);
    let state: RecordState;
    try {
      state = (await client.query(RECORD_REFUND, values)).rows[0] as RecordState;
    } catch (e) {
      // A server's error ended the call's own transaction; anything else may have left the
      // connection unusable: closed rather than handed back to the pool.
      release(pgCode(e) ? undefined : (e as Error));
      // The same refundNo stored meanwhile under another trade (another advisory lock).
      if (pgCode(e) !== UNIQUE_VIOLATION) throw e;
      const existing = await this.byKey(this.db.query.bind(this.db), refund);
      if (!existing) throw e;
      return this.again(existing, fingerprint);
    }
    release();
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
