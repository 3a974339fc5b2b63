import { MigrationInterface, QueryRunner } from 'typeorm';

export class Receipts1763884900000 implements MigrationInterface {
  name = 'Receipts1763884900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE receipts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        provider text NOT NULL,
        trade_no text NOT NULL,
        payer_id text NOT NULL,
        account_id text NOT NULL,
        merchant_id uuid REFERENCES merchants(id),
        store_id uuid REFERENCES stores(id),
        region_code char(6),
        amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
        currency char(3) NOT NULL,
        paid_at timestamptz(3) NOT NULL,
        subject text NOT NULL,
        items jsonb,
        fingerprint char(64) NOT NULL,
        raw_notification text NOT NULL,
        raw_content_type text NOT NULL,
        received_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX uq_receipts_provider_trade_no ON receipts (provider, trade_no)`,
    );
    await q.query(`CREATE INDEX ix_receipts_payer_paid_at ON receipts (payer_id, paid_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE receipts`);
  }
}
