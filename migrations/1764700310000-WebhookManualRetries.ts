import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Manual retries of a dead webhook delivery are limited (WEBHOOK_MANUAL_RETRIES per delivery in
 * a rolling 24 hours): the count and the start of its window live on the delivery, so the limit
 * is one guarded UPDATE. Also an index for purging old delivered rows (OUTBOX_RETENTION).
 */
export class WebhookManualRetries1764700310000 implements MigrationInterface {
  name = 'WebhookManualRetries1764700310000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE webhook_deliveries
         ADD COLUMN manual_retries integer NOT NULL DEFAULT 0,
         ADD COLUMN manual_retry_window_at timestamptz(3)`,
    );
    await q.query(
      `CREATE INDEX ix_webhook_deliveries_delivered ON webhook_deliveries (delivered_at) WHERE state = 'done'`,
    );
    await q.query(`CREATE INDEX ix_outbox_done ON outbox (done_at) WHERE state = 'done'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_outbox_done`);
    await q.query(`DROP INDEX ix_webhook_deliveries_delivered`);
    await q.query(
      `ALTER TABLE webhook_deliveries DROP COLUMN manual_retries, DROP COLUMN manual_retry_window_at`,
    );
  }
}
