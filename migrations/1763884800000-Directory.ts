import { MigrationInterface, QueryRunner } from 'typeorm';

export class Directory1763884800000 implements MigrationInterface {
  name = 'Directory1763884800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
    await q.query(`
      CREATE TABLE merchants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        credit_code char(18) NOT NULL,
        contact_email text,
        webhook_url text,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_merchants_credit_code ON merchants (credit_code)`);
    await q.query(`
      CREATE TABLE stores (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        merchant_id uuid NOT NULL REFERENCES merchants(id) ON DELETE RESTRICT,
        name text NOT NULL,
        address text NOT NULL,
        region_code char(6) NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX ix_stores_merchant ON stores (merchant_id)`);
    await q.query(`
      CREATE TABLE payment_accounts (
        provider text NOT NULL,
        account_id text NOT NULL,
        store_id uuid NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        CONSTRAINT pk_payment_accounts PRIMARY KEY (provider, account_id)
      )`);
    await q.query(`CREATE INDEX ix_payment_accounts_store ON payment_accounts (store_id)`);
    await q.query(`
      CREATE TABLE offices (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        kind text NOT NULL DEFAULT 'regulator' CHECK (kind IN ('regulator', 'partner')),
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE office_regions (
        office_id uuid NOT NULL REFERENCES offices(id) ON DELETE CASCADE,
        prefix varchar(6) NOT NULL CHECK (prefix ~ '^[0-9]{1,6}$'),
        CONSTRAINT pk_office_regions PRIMARY KEY (office_id, prefix)
      )`);
    await q.query(`CREATE INDEX ix_office_regions_prefix ON office_regions (prefix)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE office_regions`);
    await q.query(`DROP TABLE offices`);
    await q.query(`DROP TABLE payment_accounts`);
    await q.query(`DROP TABLE stores`);
    await q.query(`DROP TABLE merchants`);
  }
}
