import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The merchant's on-time rate must count every ticket the merchant let run out unanswered, not
 * only the worker's no-response escalations: a consumer who escalates herself after the 96 hours
 * (reason consumer_request) or withdraws then was not answered either. `unanswered_late` counts
 * the tickets that left the merchant phase straight from awaiting_merchant at or after
 * merchantRespondBy, on the Shanghai day they left it.
 *
 * Backfill: only events whose outbox row is already drained ('done'); pending ones are counted
 * by the (new) drain. Start the new worker with this migration: an old worker draining meanwhile
 * would leave its rows without this counter.
 *
 * `open` in the statistics is counted over the tickets in the merchant phase on a partial index,
 * small (open tickets only) whatever the history.
 */
export class StatsUnanswered1763885350000 implements MigrationInterface {
  name = 'StatsUnanswered1763885350000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stats_daily ADD COLUMN unanswered_late integer NOT NULL DEFAULT 0`);
    await q.query(`
      INSERT INTO stats_daily (day, region_code, merchant_id, unanswered_late)
      SELECT (e.at AT TIME ZONE 'Asia/Shanghai')::date, c.region_code, c.merchant_id, count(*)
        FROM complaint_events e
        JOIN complaints c ON c.id = e.complaint_id
        JOIN outbox o ON o.complaint_id = e.complaint_id AND o.event_seq = e.seq
                     AND o.topic = 'stats' AND o.state = 'done'
       WHERE e.type IN ('escalated', 'withdrawn')
         AND e.data->>'from' = 'awaiting_merchant'
         AND e.at >= c.merchant_respond_by
       GROUP BY 1, 2, 3
      ON CONFLICT (day, region_code, merchant_id)
        DO UPDATE SET unanswered_late = stats_daily.unanswered_late + EXCLUDED.unanswered_late`);
    await q.query(
      `CREATE INDEX ix_complaints_open ON complaints (merchant_id, region_code)
        WHERE status IN ('awaiting_merchant', 'in_negotiation')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_complaints_open`);
    await q.query(`ALTER TABLE stats_daily DROP COLUMN unanswered_late`);
  }
}
