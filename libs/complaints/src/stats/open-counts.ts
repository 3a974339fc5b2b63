/*
 * "Open now" (tickets in the merchant phase) from counters instead of a live count over the open
 * tickets, which grows with them (52,016 counted per city report at 10M tickets). The outbox
 * drain adds each drained event's effect on the open count to stats_open (merchant × region) and
 * stats_region_open (region) in the transaction that marks the rows done; a report adds the
 * effect of the stats rows still pending. Both parts are read by ONE statement, so they come from
 * one snapshot: a row is either done and counted in the counters or pending and counted live,
 * never both, never neither — exact at once, like the live count was, at a cost bounded by the
 * scope's counter rows and the drain's backlog instead of by the scope's open tickets.
 */

/** The statuses of the merchant phase: what "open" counts (API.md). */
export const OPEN_STATUSES = ['awaiting_merchant', 'in_negotiation', 'settling'] as const;

const isOpen = (expr: string) =>
  `coalesce(${expr} IN (${OPEN_STATUSES.map((s) => `'${s}'`).join(', ')}), false)::int`;

/**
 * What one 'stats' outbox row `o` does to its ticket's open count: +1 for a new ticket (always
 * created awaiting_merchant, intake.ts), +1 / −1 for a status change into / out of the merchant
 * phase (the event's data.from / data.to, set by planChange on every status change), 0 for
 * anything else.
 */
export const OPEN_DELTA = `(CASE WHEN o.event_type = 'created' THEN 1
  ELSE ${isOpen(`o.payload->'data'->>'to'`)} - ${isOpen(`o.payload->'data'->>'from'`)} END)`;

/**
 * The drain's increments of the counters for the outbox rows `$1` (ids), per merchant × region
 * then per region, each in key order (concurrent drains lock shared rows in one order).
 */
export const OPEN_COUNTER_UPSERTS = [
  `INSERT INTO stats_open (merchant_id, region_code, open)
   SELECT c.merchant_id, c.region_code, sum(${OPEN_DELTA})::int
     FROM outbox o JOIN complaints c ON c.id = o.complaint_id
    WHERE o.id = ANY($1::bigint[])
    GROUP BY c.merchant_id, c.region_code HAVING sum(${OPEN_DELTA}) <> 0
    ORDER BY c.merchant_id, c.region_code
   ON CONFLICT (merchant_id, region_code) DO UPDATE SET open = stats_open.open + EXCLUDED.open`,
  `INSERT INTO stats_region_open (region_code, open)
   SELECT c.region_code, sum(${OPEN_DELTA})::int
     FROM outbox o JOIN complaints c ON c.id = o.complaint_id
    WHERE o.id = ANY($1::bigint[])
    GROUP BY c.region_code HAVING sum(${OPEN_DELTA}) <> 0
    ORDER BY c.region_code
   ON CONFLICT (region_code) DO UPDATE SET open = stats_region_open.open + EXCLUDED.open`,
];

/**
 * The open count of a scope: the counters (`scoped`: conditions over alias s, on merchant_id
 * and/or region_code) plus the pending stats rows of the scope's tickets. A merchant's scope
 * reads stats_open, any other stats_region_open.
 */
export function openCountSql(byMerchant: boolean, scoped: string): string {
  const counters = byMerchant ? 'stats_open' : 'stats_region_open';
  return `SELECT ((SELECT coalesce(sum(s.open), 0) FROM ${counters} s WHERE true ${scoped})
          + (SELECT coalesce(sum(${OPEN_DELTA}), 0) FROM outbox o JOIN complaints s ON s.id = o.complaint_id
              WHERE o.topic = 'stats' AND o.state = 'pending' ${scoped}))::int AS n`;
}

/**
 * Counters set from the tickets themselves (the migration, and the benchmark's synthetic
 * history): the open tickets minus what the pending stats rows will add when drained.
 */
export const OPEN_COUNTERS_FROM_TICKETS = [
  `INSERT INTO stats_open (merchant_id, region_code, open)
   SELECT merchant_id, region_code, sum(n)::int FROM (
     SELECT merchant_id, region_code, count(*) AS n FROM complaints
      WHERE status IN (${OPEN_STATUSES.map((s) => `'${s}'`).join(', ')}) GROUP BY 1, 2
     UNION ALL
     SELECT c.merchant_id, c.region_code, -sum(${OPEN_DELTA}) FROM outbox o JOIN complaints c ON c.id = o.complaint_id
      WHERE o.topic = 'stats' AND o.state = 'pending' GROUP BY 1, 2) x
   GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
   ON CONFLICT (merchant_id, region_code) DO UPDATE SET open = EXCLUDED.open`,
  `INSERT INTO stats_region_open (region_code, open)
   SELECT region_code, sum(open)::int FROM stats_open GROUP BY 1 HAVING sum(open) <> 0 ORDER BY 1
   ON CONFLICT (region_code) DO UPDATE SET open = EXCLUDED.open`,
];
