import type { ReceiptRow } from '@app/receipts';
import type { Queryable } from '@app/shared/queryable';
import type { ComplaintRow } from './complaint.row';

/**
 * The read of "initiate resolution" (use-cases/intake.ts): everything the checks need in one
 * statement, hence one round trip and one snapshot. The write is the change writer's
 * (changes/change-writer.ts), one statement too.
 */

/**
 * The receipt a ticket is filled in from (columns of the receipts lib's row), with its store and
 * merchant.
 */
export type ReceiptFacts = Pick<
  ReceiptRow,
  | 'id'
  | 'provider'
  | 'trade_no'
  | 'payer_id'
  | 'merchant_id'
  | 'store_id'
  | 'region_code'
  | 'amount_minor'
  | 'currency'
  | 'paid_at'
  | 'subject'
> & {
  store_name: string | null;
  store_address: string | null;
  merchant_name: string | null;
  /**
   * The merchant has a webhook URL (false without a merchant): no webhook payload is built for
   * the others' new tickets (the change writer's INSERT checks the URL again either way).
   */
  merchant_hooked: boolean;
};

export interface IntakeFacts {
  /** The consumer's ticket already created under this Idempotency-Key (any receipt). */
  replay: ComplaintRow | null;
  /** The receipt complained about; null when there is none with that id. */
  receipt: ReceiptFacts | null;
  /** The ticket that receipt already has, if any. */
  existingId: string | null;
  /**
   * A value of complaint_number_seq, taken only when a ticket may follow: `takeNumber`, no
   * replay, the caller's receipt, no ticket yet, an enrolled merchant. (Checks made after the read
   * — complaint window, refund above the amount paid — or a lost race leave a gap in the
   * numbers, as a rolled-back insert always did.)
   */
  number: number | null;
}

/** Receipt columns, prefixed so that they cannot collide with the `complaints` columns (c.*). */
const RECEIPT_COLUMNS = `
  r.id AS rf_id, r.provider AS rf_provider, r.trade_no AS rf_trade_no, r.payer_id AS rf_payer_id,
  r.merchant_id AS rf_merchant_id, r.store_id AS rf_store_id, r.region_code AS rf_region_code,
  r.amount_minor AS rf_amount_minor, r.currency AS rf_currency, r.paid_at AS rf_paid_at,
  r.subject AS rf_subject, s.name AS rf_store_name, s.address AS rf_store_address,
  m.name AS rf_merchant_name, m.webhook_url IS NOT NULL AS rf_merchant_hooked`;

/**
 * One row, whatever exists: `one` anchors it, each lookup is a LEFT JOIN on a unique key.
 * One statement = one snapshot, so the replay candidate and the receipt's ticket are consistent
 * with each other (a ticket a same-key request committed shows up as the replay, not as a
 * conflict).
 */
const READ_INTAKE = `
  SELECT c.*, ${RECEIPT_COLUMNS},
         e.id AS rf_existing_id,
         CASE WHEN $4 AND c.id IS NULL AND e.id IS NULL AND r.payer_id = $1
                   AND r.merchant_id IS NOT NULL AND r.store_id IS NOT NULL AND r.region_code IS NOT NULL
              THEN nextval('complaint_number_seq') END AS rf_next_number
    FROM (SELECT) AS one
    LEFT JOIN complaints c ON c.consumer_id = $1 AND c.idempotency_key = $2
    -- The receipt's month from receipt_keys: one partition probed (partition-lookups.ts).
    LEFT JOIN receipts r ON r.id = $3
          AND r.paid_at = (SELECT k.paid_at FROM receipt_keys k WHERE k.receipt_id = $3)
    LEFT JOIN stores s ON s.id = r.store_id
    LEFT JOIN merchants m ON m.id = r.merchant_id
    LEFT JOIN complaints e ON e.receipt_id = r.id`;

type IntakeRow = Partial<ComplaintRow> & {
  [K in keyof ReceiptFacts as `rf_${K}`]: ReceiptFacts[K] | null;
} & { rf_existing_id: string | null; rf_next_number: string | null };

export async function readIntake(
  db: Queryable,
  q: { consumerId: string; idempotencyKey?: string; receiptId: string; takeNumber: boolean },
): Promise<IntakeFacts> {
  const [row] = (await db.query(READ_INTAKE, [
    q.consumerId,
    q.idempotencyKey ?? null,
    q.receiptId,
    q.takeNumber,
  ])) as IntakeRow[];
  const {
    rf_id,
    rf_provider,
    rf_trade_no,
    rf_payer_id,
    rf_merchant_id,
    rf_store_id,
    rf_region_code,
    rf_amount_minor,
    rf_currency,
    rf_paid_at,
    rf_subject,
    rf_store_name,
    rf_store_address,
    rf_merchant_name,
    rf_merchant_hooked,
    rf_existing_id,
    rf_next_number,
    ...complaint
  } = row;
  return {
    replay: complaint.id ? (complaint as ComplaintRow) : null,
    receipt: rf_id
      ? {
          id: rf_id,
          provider: rf_provider!,
          trade_no: rf_trade_no!,
          payer_id: rf_payer_id!,
          merchant_id: rf_merchant_id,
          store_id: rf_store_id,
          region_code: rf_region_code,
          amount_minor: rf_amount_minor!,
          currency: rf_currency!,
          paid_at: rf_paid_at!,
          subject: rf_subject!,
          store_name: rf_store_name,
          store_address: rf_store_address,
          merchant_name: rf_merchant_name,
          merchant_hooked: rf_merchant_hooked === true,
        }
      : null,
    existingId: rf_existing_id,
    number: rf_next_number === null ? null : Number(rf_next_number),
  };
}
