import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The region hours histogram moves into the region's daily row: stats_region_daily gets one
 * column per bucket (hours_bucket_0 … hours_bucket_14, the buckets of resolveBucket: hours ≤ 1,
 * 2, 4, 8, 12, 24, 48, 72, 96, 120, 168, 240, 336, 720, and above), and
 * stats_region_resolve_hours goes.
 *
 * A region report read its median from stats_region_resolve_hours, keyed (day, region_code,
 * bucket): a city's month was 711 rows at 100k tickets and 2,633 at 10M (the cells filling up),
 * and the region bounds limited the scan on the first and last day only. Now the report's sums
 * and its histogram come from the same days × regions rows in one statement, a number that does
 * not grow with the history (docs/PERFORMANCE.md, "City statistics flat at 10M tickets").
 *
 * The buckets are fixed here (15); changing RESOLVE_HOUR_BUCKETS needs a migration like this one.
 * Backfilled from stats_region_resolve_hours in this transaction, which locks both tables first:
 * stop the old workers before (one draining after this migration fails on the missing table, its
 * batch rolled back and drained again by the new workers). `down` rebuilds the table from the
 * columns.
 */
export const REGION_HOUR_BUCKET_COLUMNS = 15;
const BUCKETS = REGION_HOUR_BUCKET_COLUMNS;
const COLUMNS = Array.from({ length: BUCKETS }, (_, b) => `hours_bucket_${b}`);

export class RegionHoursInDaily1765100100000 implements MigrationInterface {
  name = 'RegionHoursInDaily1765100100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`LOCK TABLE stats_region_daily, stats_region_resolve_hours IN EXCLUSIVE MODE`);
    await q.query(
      `ALTER TABLE stats_region_daily ${COLUMNS.map((c) => `ADD COLUMN ${c} integer NOT NULL DEFAULT 0`).join(', ')}`,
    );
    await q.query(`
      INSERT INTO stats_region_daily (day, region_code, ${COLUMNS.join(', ')})
      SELECT day, region_code,
             ${COLUMNS.map((_, b) => `coalesce(sum(tickets) FILTER (WHERE bucket = ${b}), 0)`).join(', ')}
        FROM stats_region_resolve_hours
       GROUP BY day, region_code ORDER BY day, region_code
      ON CONFLICT (day, region_code) DO UPDATE SET
        ${COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`);
    const [left]: { n: number }[] = await q.query(
      `SELECT count(*)::int AS n FROM stats_region_resolve_hours WHERE bucket NOT BETWEEN 0 AND ${BUCKETS - 1}`,
    );
    if (left.n)
      throw new Error(`stats_region_resolve_hours has ${left.n} rows outside the buckets`);
    await q.query(`DROP TABLE stats_region_resolve_hours`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`LOCK TABLE stats_region_daily IN EXCLUSIVE MODE`);
    await q.query(`
      CREATE TABLE stats_region_resolve_hours (
        day date NOT NULL,
        region_code char(6) NOT NULL,
        bucket smallint NOT NULL,
        tickets integer NOT NULL DEFAULT 0,
        CONSTRAINT pk_stats_region_resolve_hours PRIMARY KEY (day, region_code, bucket)
      )`);
    await q.query(`
      INSERT INTO stats_region_resolve_hours (day, region_code, bucket, tickets)
      SELECT d.day, d.region_code, h.bucket, h.tickets
        FROM stats_region_daily d,
             LATERAL (VALUES ${COLUMNS.map((c, b) => `(${b}, d.${c})`).join(', ')}) AS h(bucket, tickets)
       WHERE h.tickets <> 0
       ORDER BY 1, 2, 3`);
    await q.query(
      `ALTER TABLE stats_region_daily ${COLUMNS.map((c) => `DROP COLUMN ${c}`).join(', ')}`,
    );
  }
}
