import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rollups of the self-resolution measures per Shanghai day × region × merchant, maintained by
 * the worker from the outbox (exactly once: the rollup increment and the outbox row's `done`
 * commit together). Statistics are answered from here, never by scanning tickets.
 */
export class Stats1763885200000 implements MigrationInterface {
  name = 'Stats1763885200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stats_daily (
        day date NOT NULL,
        region_code char(6) NOT NULL,
        merchant_id uuid NOT NULL,
        opened integer NOT NULL DEFAULT 0,
        self_resolved integer NOT NULL DEFAULT 0,
        escalated_no_response integer NOT NULL DEFAULT 0,
        escalated_unresolved integer NOT NULL DEFAULT 0,
        escalated_consumer integer NOT NULL DEFAULT 0,
        withdrawn integer NOT NULL DEFAULT 0,
        first_responses integer NOT NULL DEFAULT 0,
        first_responses_on_time integer NOT NULL DEFAULT 0,
        accepted integer NOT NULL DEFAULT 0,
        declined integer NOT NULL DEFAULT 0,
        mediated integer NOT NULL DEFAULT 0,
        mediation_failed integer NOT NULL DEFAULT 0,
        resolve_hours_sum double precision NOT NULL DEFAULT 0,
        CONSTRAINT pk_stats_daily PRIMARY KEY (day, region_code, merchant_id)
      )`);
    await q.query(`CREATE INDEX ix_stats_daily_merchant ON stats_daily (merchant_id, day)`);
    await q.query(`CREATE INDEX ix_stats_daily_region ON stats_daily (region_code, day)`);
    await q.query(`
      CREATE TABLE stats_resolve_hours (
        day date NOT NULL,
        region_code char(6) NOT NULL,
        merchant_id uuid NOT NULL,
        bucket smallint NOT NULL,
        tickets integer NOT NULL DEFAULT 0,
        CONSTRAINT pk_stats_resolve_hours PRIMARY KEY (day, region_code, merchant_id, bucket)
      )`);
    // Serial complainants: tickets per consumer in a recent window.
    await q.query(`CREATE INDEX ix_complaints_created ON complaints (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_complaints_created`);
    await q.query(`DROP TABLE stats_resolve_hours`);
    await q.query(`DROP TABLE stats_daily`);
  }
}
