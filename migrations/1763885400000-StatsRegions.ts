import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Region-level rollups: the per-merchant ones (stats_daily, stats_resolve_hours) summed over
 * merchants, per Shanghai day × region. A region, city or jurisdiction report then reads
 * period × regions rows (30 days × a few hundred districts) instead of every merchant's row of
 * the period, which grows with the history.
 *
 * Keyed (day, region_code) like stats_daily: a period is the leading range, and a region prefix
 * is a range on region_code (`region_code >= '3301' AND region_code < '3302'`, bounds computed in
 * code: LIKE cannot use a btree under the C.UTF-8 collation) checked inside that index range; the
 * scan covers only the period's rows, however long the history. The global scope is the same
 * range without the region bounds.
 *
 * The drain maintains them in the same transaction as the per-merchant rollups (exactly once).
 * Backfill from the per-merchant tables; stop the old workers first: one draining after this
 * migration would add to the per-merchant tables only.
 *
 * stats_resolve_hours gets its (merchant_id, day) index: a merchant's histogram was found by
 * walking the whole period of every merchant. And the open tickets get a partial index by region:
 * a region's "open" count walked every open ticket of ix_complaints_open (keyed merchant first).
 */
export class StatsRegions1763885400000 implements MigrationInterface {
  name = 'StatsRegions1763885400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stats_region_daily (
        day date NOT NULL,
        region_code char(6) NOT NULL,
        opened integer NOT NULL DEFAULT 0,
        self_resolved integer NOT NULL DEFAULT 0,
        escalated_no_response integer NOT NULL DEFAULT 0,
        escalated_unresolved integer NOT NULL DEFAULT 0,
        escalated_consumer integer NOT NULL DEFAULT 0,
        withdrawn integer NOT NULL DEFAULT 0,
        first_responses integer NOT NULL DEFAULT 0,
        first_responses_on_time integer NOT NULL DEFAULT 0,
        unanswered_late integer NOT NULL DEFAULT 0,
        accepted integer NOT NULL DEFAULT 0,
        declined integer NOT NULL DEFAULT 0,
        mediated integer NOT NULL DEFAULT 0,
        mediation_failed integer NOT NULL DEFAULT 0,
        resolve_hours_sum double precision NOT NULL DEFAULT 0,
        CONSTRAINT pk_stats_region_daily PRIMARY KEY (day, region_code)
      )`);
    await q.query(`
      CREATE TABLE stats_region_resolve_hours (
        day date NOT NULL,
        region_code char(6) NOT NULL,
        bucket smallint NOT NULL,
        tickets integer NOT NULL DEFAULT 0,
        CONSTRAINT pk_stats_region_resolve_hours PRIMARY KEY (day, region_code, bucket)
      )`);
    // No concurrent drain between the backfill's read and this transaction's commit.
    await q.query(`LOCK TABLE stats_daily, stats_resolve_hours IN SHARE MODE`);
    await q.query(`
      INSERT INTO stats_region_daily (day, region_code, opened, self_resolved, escalated_no_response,
             escalated_unresolved, escalated_consumer, withdrawn, first_responses, first_responses_on_time,
             unanswered_late, accepted, declined, mediated, mediation_failed, resolve_hours_sum)
      SELECT day, region_code, sum(opened), sum(self_resolved), sum(escalated_no_response),
             sum(escalated_unresolved), sum(escalated_consumer), sum(withdrawn), sum(first_responses),
             sum(first_responses_on_time), sum(unanswered_late), sum(accepted), sum(declined),
             sum(mediated), sum(mediation_failed), sum(resolve_hours_sum)
        FROM stats_daily GROUP BY day, region_code ORDER BY day, region_code`);
    await q.query(`
      INSERT INTO stats_region_resolve_hours (day, region_code, bucket, tickets)
      SELECT day, region_code, bucket, sum(tickets)
        FROM stats_resolve_hours GROUP BY day, region_code, bucket ORDER BY day, region_code, bucket`);
    await q.query(
      `CREATE INDEX ix_stats_resolve_hours_merchant ON stats_resolve_hours (merchant_id, day)`,
    );
    await q.query(
      `CREATE INDEX ix_complaints_open_region ON complaints (region_code)
        WHERE status IN ('awaiting_merchant', 'in_negotiation')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_complaints_open_region`);
    await q.query(`DROP INDEX ix_stats_resolve_hours_merchant`);
    await q.query(`DROP TABLE stats_region_resolve_hours`);
    await q.query(`DROP TABLE stats_region_daily`);
  }
}
