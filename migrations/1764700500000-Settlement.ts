import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outcomes verified by money (issue 13): refunds as the providers report them, the `settling`
 * status with its settlement columns, offer expiry, and the statistics' verified counters.
 * Tickets already `resolved` were settled before verification existed: settledVia "legacy",
 * never counted as verified.
 */
/**
 * Tickets already resolved when settlement arrived: settled before verification existed
 * (settledVia "legacy"), never counted as verified (their rollups came from `offer_accepted`
 * events without a settledVia, so the verified counters never saw them).
 */
export const LEGACY_SETTLED_SQL = `
  UPDATE complaints SET settled_via = 'legacy', settled_at = coalesce(closed_at, updated_at)
   WHERE status = 'resolved' AND settled_via IS NULL`;

export class Settlement1764700500000 implements MigrationInterface {
  name = 'Settlement1764700500000';

  async up(q: QueryRunner): Promise<void> {
    // Refunds: keyed by (provider, refund_no); matched to the receipt by (provider, trade_no),
    // whenever both are known (a refund may arrive before its receipt: receipt_id stays null).
    await q.query(`
      CREATE TABLE refunds (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        provider text NOT NULL,
        refund_no text NOT NULL,
        trade_no text NOT NULL,
        receipt_id uuid REFERENCES receipts(id),
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        currency char(3) NOT NULL,
        refunded_at timestamptz(3) NOT NULL,
        fingerprint char(64) NOT NULL,
        raw text NOT NULL,
        raw_content_type text NOT NULL,
        received_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX uq_refunds_provider_refund_no ON refunds (provider, refund_no)`,
    );
    await q.query(`CREATE INDEX ix_refunds_trade ON refunds (provider, trade_no)`);
    await q.query(
      `CREATE INDEX ix_refunds_unmatched ON refunds (provider, trade_no) WHERE receipt_id IS NULL`,
    );

    // Settlement of an accepted offer.
    await q.query(`
      ALTER TABLE complaints
        ADD COLUMN settlement_offer_id uuid,
        ADD COLUMN settlement_type text,
        ADD COLUMN settlement_amount_minor bigint,
        ADD COLUMN settle_by timestamptz(3),
        ADD COLUMN settlement_refunded_minor bigint,
        ADD COLUMN settled_at timestamptz(3),
        ADD COLUMN settled_via text
          CHECK (settled_via IN ('refund', 'consumer', 'no_objection', 'legacy')),
        ADD COLUMN withdraw_reason text`);
    await q.query(
      `CREATE INDEX ix_complaints_due_settle ON complaints (settle_by) WHERE status = 'settling'`,
    );
    await q.query(`ALTER TABLE complaints DROP CONSTRAINT ck_complaints_escalated_at`);
    await q.query(`
      ALTER TABLE complaints ADD CONSTRAINT ck_complaints_escalated_at CHECK (
        status IN ('awaiting_merchant', 'in_negotiation', 'settling', 'resolved', 'withdrawn')
        OR escalated_at IS NOT NULL)`);
    await q.query(`
      ALTER TABLE complaints ADD CONSTRAINT ck_complaints_settling CHECK (
        status <> 'settling' OR (settle_by IS NOT NULL AND settlement_offer_id IS NOT NULL))`);
    // Existing data: resolved before verification existed.
    await q.query(LEGACY_SETTLED_SQL);

    // Offers expire unanswered (OFFER_RESPONSE_SLA); the consumer is reminded halfway.
    await q.query(`
      ALTER TABLE complaint_offers
        ADD COLUMN expires_at timestamptz(3),
        ADD COLUMN reminded_at timestamptz(3)`);
    await q.query(
      `CREATE INDEX ix_offers_pending_expiry ON complaint_offers (expires_at) WHERE status = 'pending'`,
    );

    // Merchant e-mail goes through the outbox (topic 'mail'): each kind once per ticket.
    await q.query(
      `CREATE UNIQUE INDEX uq_outbox_mail ON outbox (complaint_id, (payload->>'mailKind'))
        WHERE topic = 'mail'`,
    );

    // "Open" (the merchant phase) now includes settling: the partial indexes follow.
    for (const [name, cols] of [
      ['ix_complaints_open', 'merchant_id, region_code'],
      ['ix_complaints_open_region', 'region_code'],
    ]) {
      await q.query(`DROP INDEX ${name}`);
      await q.query(
        `CREATE INDEX ${name} ON complaints (${cols})
          WHERE status IN ('awaiting_merchant', 'in_negotiation', 'settling')`,
      );
    }

    // Statistics: verified settlements, and escalations of unfulfilled settlements.
    for (const table of ['stats_daily', 'stats_region_daily']) {
      await q.query(`
        ALTER TABLE ${table}
          ADD COLUMN verified_self_resolved integer NOT NULL DEFAULT 0,
          ADD COLUMN escalated_settlement integer NOT NULL DEFAULT 0`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX uq_outbox_mail`);
    for (const table of ['stats_daily', 'stats_region_daily']) {
      await q.query(`
        ALTER TABLE IF EXISTS ${table}
          DROP COLUMN IF EXISTS verified_self_resolved,
          DROP COLUMN IF EXISTS escalated_settlement`);
    }
    for (const [name, cols] of [
      ['ix_complaints_open', 'merchant_id, region_code'],
      ['ix_complaints_open_region', 'region_code'],
    ]) {
      await q.query(`DROP INDEX ${name}`);
      await q.query(
        `CREATE INDEX ${name} ON complaints (${cols})
          WHERE status IN ('awaiting_merchant', 'in_negotiation')`,
      );
    }
    await q.query(`DROP INDEX ix_offers_pending_expiry`);
    await q.query(`ALTER TABLE complaint_offers DROP COLUMN expires_at, DROP COLUMN reminded_at`);
    await q.query(`ALTER TABLE complaints DROP CONSTRAINT ck_complaints_settling`);
    await q.query(`ALTER TABLE complaints DROP CONSTRAINT ck_complaints_escalated_at`);
    await q.query(`
      ALTER TABLE complaints ADD CONSTRAINT ck_complaints_escalated_at CHECK (
        status IN ('awaiting_merchant', 'in_negotiation', 'resolved', 'withdrawn')
        OR escalated_at IS NOT NULL)`);
    await q.query(`DROP INDEX ix_complaints_due_settle`);
    await q.query(`
      ALTER TABLE complaints
        DROP COLUMN settlement_offer_id, DROP COLUMN settlement_type,
        DROP COLUMN settlement_amount_minor, DROP COLUMN settle_by,
        DROP COLUMN settlement_refunded_minor, DROP COLUMN settled_at,
        DROP COLUMN settled_via, DROP COLUMN withdraw_reason`);
    await q.query(`DROP TABLE refunds`);
  }
}
