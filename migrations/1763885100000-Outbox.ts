import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Transactional outbox: each ticket event that someone downstream must learn about (statistics
 * rollups, merchant webhooks) is written here in the same transaction as the event itself, and
 * the worker drains it. Nothing is lost when Redis or a worker dies.
 */
export class Outbox1763885100000 implements MigrationInterface {
  name = 'Outbox1763885100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        complaint_id uuid NOT NULL REFERENCES complaints(id),
        event_seq integer NOT NULL,
        event_type text NOT NULL,
        payload jsonb NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz(3) NOT NULL DEFAULT now(),
        last_error text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        done_at timestamptz(3)
      )`);
    await q.query(
      `CREATE INDEX ix_outbox_pending ON outbox (topic, next_attempt_at, id) WHERE state = 'pending'`,
    );
    await q.query(`CREATE INDEX ix_outbox_complaint ON outbox (complaint_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
  }
}
