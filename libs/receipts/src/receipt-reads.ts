/*
 * The receipts lib's narrow reads for the other libs. It owns receipts and refunds
 * (libs/database/src/table-owners.ts); another lib asks through these instead of naming those
 * tables in its SQL. Each takes a Queryable, so it runs in the caller's transaction.
 */
import { receiptMonthById } from './partition-lookups';
import { rowsOf } from '@app/shared/queryable';
import type { Queryable } from '@app/shared/queryable';

export const ReceiptReads = {
  /** The amount paid on a receipt (minor units); 0 when there is no such receipt. */
  async amountPaid(db: Queryable, receiptId: string): Promise<number> {
    const [row] = await rowsOf<{ amount_minor: string }>(
      db,
      `SELECT amount_minor FROM receipts r WHERE r.id = $1 AND ${receiptMonthById('r', '$1')}`,
      [receiptId],
    );
    return row ? Number(row.amount_minor) : 0;
  },

  /**
   * Refunds of a receipt's payment (matched by provider and trade number, so a refund stored
   * before its receipt counts too) made or recorded no earlier than `since` (a timestamptz: a
   * Date, or PostgreSQL's own text for microseconds).
   */
  async refundedSince(db: Queryable, receiptId: string, since: Date | string): Promise<number> {
    const [row] = await rowsOf<{ refunded: string }>(
      db,
      `SELECT coalesce(sum(f.amount_minor), 0) AS refunded
         FROM receipts r
         JOIN refunds f ON f.provider = r.provider AND f.trade_no = r.trade_no
                       AND greatest(f.refunded_at, f.received_at) >= $2::timestamptz
        WHERE r.id = $1 AND ${receiptMonthById('r', '$1')}`,
      [receiptId, since],
    );
    return Number(row?.refunded ?? 0);
  },
};
