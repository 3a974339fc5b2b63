import { MigrationInterface, QueryRunner } from 'typeorm';

const OPEN = `'awaiting_merchant', 'in_negotiation', 'settling'`;
/** A stats outbox row's effect on the open count (libs/complaints/src/stats/open-counts.ts). */
const DELTA = `(CASE WHEN o.event_type = 'created' THEN 1
  ELSE coalesce(o.payload->'data'->>'to' IN (${OPEN}), false)::int
     - coalesce(o.payload->'data'->>'from' IN (${OPEN}), false)::int END)`;

/**
 * Counters of open tickets (issue 16): a report's "open" was counted live over the scope's open
 * tickets (52,016 rows for a city at 10M tickets), growing with them. stats_open (merchant ×
 * region) and stats_region_open (region) are maintained by the outbox drain; a report adds the
 * pending stats rows (open-counts.ts). Backfilled as the open tickets minus what the pending rows
 * will add, in one snapshot; stop the old workers first (their drains would not add to these),
 * which the SHARE lock on stats_daily also makes wait.
 */
export class OpenCounters1764900200000 implements MigrationInterface {
  name = 'OpenCounters1764900200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stats_open (
        merchant_id uuid NOT NULL,
        region_code char(6) NOT NULL,
        open integer NOT NULL DEFAULT 0,
        CONSTRAINT pk_stats_open PRIMARY KEY (merchant_id, region_code)
      )`);
    await q.query(`
      CREATE TABLE stats_region_open (
        region_code char(6) NOT NULL,
        open integer NOT NULL DEFAULT 0,
        CONSTRAINT pk_stats_region_open PRIMARY KEY (region_code)
      )`);
    await q.query(`LOCK TABLE stats_daily IN SHARE MODE`);
    await q.query(`
      INSERT INTO stats_open (merchant_id, region_code, open)
      SELECT merchant_id, region_code, sum(n)::int FROM (
        SELECT merchant_id, region_code, count(*) AS n FROM complaints
         WHERE status IN (${OPEN}) GROUP BY 1, 2
        UNION ALL
        SELECT c.merchant_id, c.region_code, -sum(${DELTA}) FROM outbox o JOIN complaints c ON c.id = o.complaint_id
         WHERE o.topic = 'stats' AND o.state = 'pending' GROUP BY 1, 2) x
      GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2`);
    await q.query(`
      INSERT INTO stats_region_open (region_code, open)
      SELECT region_code, sum(open)::int FROM stats_open GROUP BY 1 HAVING sum(open) <> 0 ORDER BY 1`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE stats_region_open`);
    await q.query(`DROP TABLE stats_open`);
  }
}
