import { RESOLVE_HOUR_BUCKETS, ROLLUP_COUNTERS } from './measures';

/**
 * The region-level rollups (day × region, no merchant) are the per-merchant ones summed over
 * merchants. Both the outbox drain (from the batch's per-merchant increments) and the benchmark
 * (from a filled stats_daily) write them with these statements, so the sum is defined once.
 */
const REGION_COLUMNS = [...ROLLUP_COUNTERS, 'resolve_hours_sum'] as const;

/**
 * Adds `source` (a FROM item with columns day, region_code and every rollup counter and
 * resolve_hours_sum, one row per day × region × merchant) to stats_region_daily. Rows are
 * upserted in (day, region_code) order, so concurrent drains lock shared rows in the same order
 * and wait for each other instead of deadlocking.
 */
export function regionDailyUpsert(source: string): string {
  return `INSERT INTO stats_region_daily (day, region_code, ${REGION_COLUMNS.join(', ')})
    SELECT s.day, s.region_code, ${REGION_COLUMNS.map((c) => `sum(s.${c})`).join(', ')}
      FROM ${source}
     GROUP BY s.day, s.region_code
     ORDER BY s.day, s.region_code
    ON CONFLICT (day, region_code) DO UPDATE SET
      ${REGION_COLUMNS.map((c) => `${c} = stats_region_daily.${c} + EXCLUDED.${c}`).join(', ')}`;
}

/**
 * The region's hours histogram lives in its daily row, one column per bucket (resolveBucket:
 * 0 … RESOLVE_HOUR_BUCKETS.length), so a region report reads one row per day × region for its
 * sums and its median alike: days × regions rows, however many cells of the histogram the
 * history has filled (a table keyed by bucket grew from 711 to 2,633 rows for a city's month
 * between 100k and 10M tickets; docs/PERFORMANCE.md, "City statistics flat at 10M tickets").
 */
export type RegionHourColumn = `hours_bucket_${number}`;
export const REGION_HOUR_COLUMNS: readonly RegionHourColumn[] = Array.from(
  { length: RESOLVE_HOUR_BUCKETS.length + 1 },
  (_, b): RegionHourColumn => `hours_bucket_${b}`,
);

/**
 * Adds the hours histogram of `source` (columns day, region_code, bucket, tickets) to the
 * bucket columns of stats_region_daily, in (day, region_code) order like regionDailyUpsert.
 */
export function regionHoursUpsert(source: string): string {
  return `INSERT INTO stats_region_daily (day, region_code, ${REGION_HOUR_COLUMNS.join(', ')})
    SELECT s.day, s.region_code,
           ${REGION_HOUR_COLUMNS.map((_, b) => `coalesce(sum(s.tickets) FILTER (WHERE s.bucket = ${b}), 0)`).join(',\n           ')}
      FROM ${source}
     GROUP BY s.day, s.region_code
     ORDER BY s.day, s.region_code
    ON CONFLICT (day, region_code) DO UPDATE SET
      ${REGION_HOUR_COLUMNS.map((c) => `${c} = stats_region_daily.${c} + EXCLUDED.${c}`).join(', ')}`;
}

/**
 * The region codes starting with `prefix` as a half-open range [low, high) of char(6) values,
 * high undefined when nothing follows (a prefix of nines). A range, unlike `LIKE 'p%'`, can use
 * a btree index under the database's C.UTF-8 collation (LIKE prefixes need the C collation or a
 * pattern_ops index). Region codes are digits, so the next prefix is the prefix plus one.
 */
export function regionRange(prefix: string): { low: string; high?: string } {
  if (!/^\d{1,6}$/.test(prefix)) throw new Error(`region prefix ${prefix} is not 1–6 digits`);
  const body = prefix.replace(/9+$/, '');
  if (!body) return { low: prefix };
  return {
    low: prefix,
    high: body.slice(0, -1) + String(Number(body[body.length - 1]) + 1),
  };
}

/**
 * The prefixes that matter among `prefixes`: one that extends another is inside it already.
 * Sorted, so the SQL (and its plan) is the same whatever the order of an office's rows.
 */
export function outermostPrefixes(prefixes: string[]): string[] {
  const sorted = [...new Set(prefixes)].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(q)));
}
