import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Merchant webhooks. Each merchant gets a signing secret, sealed at rest under PII_KEY
 * (AES-256-GCM, like consumers' phones) together with an id of that key, so a worker only takes
 * deliveries it can sign. Merchants onboarded before this migration have none until an admin
 * rotates it (their deliveries wait, pending, meanwhile).
 *
 * Deliveries have their own table rather than `outbox` rows with another topic: the row is
 * written in the ticket's transaction (it is an outbox), but it is also what the merchant reads
 * through the API, so it is keyed by merchant, has an unguessable id (the `X-Hejie-Delivery`
 * header receivers dedupe on), and its retries and dead letters never touch the statistics
 * drain's queue.
 */
export class Webhooks1763885300000 implements MigrationInterface {
  name = 'Webhooks1763885300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE merchants ADD COLUMN webhook_secret text, ADD COLUMN webhook_secret_key_id text`,
    );
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY,
        merchant_id uuid NOT NULL REFERENCES merchants(id),
        complaint_id uuid NOT NULL REFERENCES complaints(id),
        event_seq integer NOT NULL,
        type text NOT NULL,
        payload jsonb NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz(3) NOT NULL,
        last_attempt_at timestamptz(3),
        last_error text,
        delivered_at timestamptz(3),
        created_at timestamptz(3) NOT NULL,
        CONSTRAINT uq_webhook_deliveries_event UNIQUE (complaint_id, event_seq)
      )`);
    await q.query(
      `CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending'`,
    );
    await q.query(
      `CREATE INDEX ix_webhook_deliveries_merchant ON webhook_deliveries (merchant_id, created_at, id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(
      `ALTER TABLE merchants DROP COLUMN webhook_secret, DROP COLUMN webhook_secret_key_id`,
    );
  }
}
