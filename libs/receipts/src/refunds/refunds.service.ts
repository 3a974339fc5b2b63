import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError, UNIQUE_VIOLATION, pgCode } from '@app/shared';
import type { NormalizedRefund } from './normalized-refund';

export interface RefundView {
  id: string;
  provider: string;
  tradeNo: string;
  refundNo: string;
  /** The receipt it refunds, once both are known (a refund may arrive first). */
  receiptId: string | null;
  amountMinor: number;
  currency: string;
  refundedAt: string;
  receivedAt: string;
}

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

interface RefundRow {
  id: string;
  provider: string;
  trade_no: string;
  refund_no: string;
  receipt_id: string | null;
  amount_minor: string;
  currency: string;
  refunded_at: Date;
  received_at: Date;
  fingerprint: string;
}

function toView(r: RefundRow): RefundView {
  return {
    id: r.id,
    provider: r.provider,
    tradeNo: r.trade_no,
    refundNo: r.refund_no,
    receiptId: r.receipt_id,
    amountMinor: Number(r.amount_minor),
    currency: r.currency.trim(),
    refundedAt: r.refunded_at.toISOString(),
    receivedAt: r.received_at.toISOString(),
  };
}

/** sha256 of the facts as the provider stated them (Alipay: the running total, not the delta). */
export function refundFingerprint(r: NormalizedRefund): string {
  const facts = [
    r.provider,
    r.tradeNo,
    r.refundNo,
    r.amountMinor ?? null,
    r.refundedTotalMinor ?? null,
    r.currency,
    r.refundedAt.toISOString(),
  ];
  return createHash('sha256').update(JSON.stringify(facts)).digest('hex');
}

/**
 * The refunds store. Knows receipts (to match and cap), never tickets: the API and the worker
 * tell the complaints lib after a refund was recorded.
 */
@Injectable()
export class RefundsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Records one verified refund, idempotent on (provider, refundNo) under concurrency. Refunds
   * of one trade are serialised by a transaction-scoped advisory lock on (provider, tradeNo), so
   * "total so far minus recorded" (Alipay) and the cap at the amount paid are computed on a
   * stable sum; the unique index settles the rest (the same refundNo under another trade).
   */
  async record(incoming: IncomingRefund): Promise<RefundRecordResult> {
    const { refund } = incoming;
    const fingerprint = refundFingerprint(refund);
    try {
      return await this.db.transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))`, [
          `refund:${refund.provider}`,
          refund.tradeNo,
        ]);
        const existing = await this.byKey(tx.query.bind(tx), refund);
        if (existing) return this.again(existing, fingerprint);
        const [receipt]: { id: string; amount_minor: string; currency: string }[] = await tx.query(
          `SELECT id, amount_minor, currency FROM receipts WHERE provider = $1 AND trade_no = $2`,
          [refund.provider, refund.tradeNo],
        );
        const [{ recorded }]: { recorded: string }[] = await tx.query(
          `SELECT coalesce(sum(amount_minor), 0) AS recorded FROM refunds
            WHERE provider = $1 AND trade_no = $2`,
          [refund.provider, refund.tradeNo],
        );
        const already = Number(recorded);
        const amount = refund.amountMinor ?? (refund.refundedTotalMinor ?? 0) - already;
        if (amount <= 0) {
          return {
            kind: 'nothing_new' as const,
            reason: `refunded total ${refund.refundedTotalMinor} is already recorded for trade ${refund.tradeNo}`,
          };
        }
        if (receipt) {
          const paid = Number(receipt.amount_minor);
          if (already + amount > paid) {
            throw new DomainError(
              'REFUND_EXCEEDS_PAYMENT',
              `refunds of ${already + amount} would exceed the ${paid} paid for trade ${refund.tradeNo}`,
              { receiptId: receipt.id, paidMinor: paid, refundedMinor: already },
            );
          }
          if (receipt.currency.trim() !== refund.currency) {
            throw new DomainError(
              'VALIDATION_FAILED',
              `the refund is in ${refund.currency}, the payment in ${receipt.currency.trim()}`,
              {},
              [{ field: 'currency', message: `must be ${receipt.currency.trim()}` }],
            );
          }
        }
        const [row]: RefundRow[] = await tx.query(
          `INSERT INTO refunds (provider, refund_no, trade_no, receipt_id, amount_minor, currency,
                                refunded_at, fingerprint, raw, raw_content_type)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           RETURNING *`,
          [
            refund.provider,
            refund.refundNo,
            refund.tradeNo,
            receipt?.id ?? null,
            amount,
            refund.currency,
            refund.refundedAt,
            fingerprint,
            incoming.raw,
            incoming.contentType,
          ],
        );
        return { kind: 'recorded' as const, refund: toView(row), created: true };
      });
    } catch (e) {
      // The same refundNo stored meanwhile under another trade (another advisory lock).
      if (pgCode(e) !== UNIQUE_VIOLATION) throw e;
      const existing = await this.byKey(this.db.query.bind(this.db), refund);
      if (!existing) throw e;
      return this.again(existing, fingerprint);
    }
  }

  private async byKey(
    query: (sql: string, params: unknown[]) => Promise<RefundRow[]>,
    refund: NormalizedRefund,
  ): Promise<RefundRow | undefined> {
    const [row] = await query(`SELECT * FROM refunds WHERE provider = $1 AND refund_no = $2`, [
      refund.provider,
      refund.refundNo,
    ]);
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

  /** The refunds of one payment, oldest first (GET /v1/receipts/:id). */
  async forTrade(provider: string, tradeNo: string): Promise<RefundView[]> {
    const rows: RefundRow[] = await this.db.query(
      `SELECT * FROM refunds WHERE provider = $1 AND trade_no = $2 ORDER BY refunded_at, id`,
      [provider, tradeNo],
    );
    return rows.map(toView);
  }
}
