import type { DataSource } from 'typeorm';
import { ROLLUP_COUNTERS, RollupCounter, StatsEvent, deltasOf, resolveBucket } from './measures';
import { OPEN_COUNTER_UPSERTS } from './open-counts';
import { regionDailyUpsert, regionHoursUpsert } from './region-rollups';

interface DrainRow {
  id: string;
  complaint_id: string;
  event_type: string;
  payload: { actor: { role: string }; at: string; data: StatsEvent['data'] };
  region_code: string;
  merchant_id: string;
  created_at: Date;
  merchant_respond_by: Date;
  resolve_by: Date;
  /** The ticket's status now (not the event's). */
  status: string;
}

/** A ticket created since the last drain, still in the merchant phase: its deadline jobs are due. */
export interface DrainedCreation {
  complaintId: string;
  merchantRespondBy: Date;
  resolveBy: Date;
}

/** The statuses whose deadlines (merchant response, resolution) a new ticket's jobs watch. */
const MERCHANT_PHASE: ReadonlySet<string> = new Set(['awaiting_merchant', 'in_negotiation']);

/**
 * One batch of the statistics drain: pending 'stats' outbox rows (SKIP LOCKED, so workers take
 * disjoint rows) become rollup increments (per merchant, then per region), and the rows are
 * marked done in the same transaction: exactly once. Returns the rows drained, and the tickets
 * among them created and still in the merchant phase (their deadline jobs are scheduled from
 * here, after the commit, rather than by the creating request: StatsService.drainBatch).
 */
export async function drainStatsBatch(
  db: DataSource,
  limit: number,
): Promise<{ drained: number; created: DrainedCreation[] }> {
  return db.transaction(async (tx) => {
    const rows: DrainRow[] = await tx.query(
      `SELECT o.id, o.complaint_id, o.event_type, o.payload, c.region_code, c.merchant_id, c.created_at,
              c.merchant_respond_by, c.resolve_by, c.status
         FROM outbox o JOIN complaints c ON c.id = o.complaint_id
        WHERE o.topic = 'stats' AND o.state = 'pending'
        ORDER BY o.id LIMIT $1
        FOR UPDATE OF o SKIP LOCKED`,
      [limit],
    );
    if (!rows.length) return { drained: 0, created: [] };
    const counters = new Map<string, Record<RollupCounter, number> & { hours: number }>();
    const hist = new Map<string, number>();
    for (const r of rows) {
      for (const d of deltasOf({
        type: r.event_type,
        at: r.payload.at,
        actorRole: r.payload.actor.role,
        data: r.payload.data ?? {},
        regionCode: r.region_code,
        merchantId: r.merchant_id,
        createdAt: r.created_at,
        merchantRespondBy: r.merchant_respond_by,
      })) {
        const key = `${d.day}|${d.regionCode}|${d.merchantId}`;
        let c = counters.get(key);
        if (!c) {
          c = Object.assign(Object.fromEntries(ROLLUP_COUNTERS.map((n) => [n, 0])), {
            hours: 0,
          }) as Record<RollupCounter, number> & { hours: number };
          counters.set(key, c);
        }
        c[d.counter]++;
        if (d.resolveHours !== undefined) {
          c.hours += d.resolveHours;
          const hk = `${key}|${resolveBucket(d.resolveHours)}`;
          hist.set(hk, (hist.get(hk) ?? 0) + 1);
        }
      }
    }
    // Upserts in key order: two workers then lock shared rollup rows in the same order and
    // wait for each other instead of deadlocking.
    const byKey = <V>(m: Map<string, V>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    const regionWrites: [string, unknown[]][] = [];
    if (counters.size) {
      const sorted = byKey(counters);
      const keys = sorted.map(([k]) => k.split('|'));
      const vals = sorted.map(([, v]) => v);
      const params: unknown[] = [
        keys.map((k) => k[0]),
        keys.map((k) => k[1]),
        keys.map((k) => k[2]),
      ];
      for (const n of ROLLUP_COUNTERS) params.push(vals.map((v) => v[n]));
      params.push(vals.map((v) => v.hours));
      const cols = [...ROLLUP_COUNTERS, 'resolve_hours_sum'];
      const increments = `unnest($1::date[], $2::text[], $3::uuid[],
                ${ROLLUP_COUNTERS.map((_, i) => `$${i + 4}::int[]`).join(', ')}, $${ROLLUP_COUNTERS.length + 4}::float8[])`;
      await tx.query(
        `INSERT INTO stats_daily (day, region_code, merchant_id, ${cols.join(', ')})
         SELECT * FROM ${increments}
         ON CONFLICT (day, region_code, merchant_id) DO UPDATE SET
           ${cols.map((c) => `${c} = stats_daily.${c} + EXCLUDED.${c}`).join(', ')}`,
        params,
      );
      // The same increments summed per day × region: the region rollups move with the
      // per-merchant ones, in this transaction. Last, since every drain touches today's rows.
      regionWrites.push([
        regionDailyUpsert(`${increments} AS s(day, region_code, merchant_id, ${cols.join(', ')})`),
        params,
      ]);
    }
    if (hist.size) {
      const sorted = byKey(hist);
      const keys = sorted.map(([k]) => k.split('|'));
      const params = [
        keys.map((k) => k[0]),
        keys.map((k) => k[1]),
        keys.map((k) => k[2]),
        keys.map((k) => Number(k[3])),
        sorted.map(([, n]) => n),
      ];
      const increments = `unnest($1::date[], $2::text[], $3::uuid[], $4::smallint[], $5::int[])`;
      await tx.query(
        `INSERT INTO stats_resolve_hours (day, region_code, merchant_id, bucket, tickets)
         SELECT * FROM ${increments}
         ON CONFLICT (day, region_code, merchant_id, bucket) DO UPDATE
           SET tickets = stats_resolve_hours.tickets + EXCLUDED.tickets`,
        params,
      );
      regionWrites.push([
        regionHoursUpsert(`${increments} AS s(day, region_code, merchant_id, bucket, tickets)`),
        params,
      ]);
    }
    // Tables in one order (per-merchant daily, hours, then region daily: its counters, then
    // its hours buckets) and rows in key order within each: two workers never wait for each
    // other in a cycle.
    for (const [sql, params] of regionWrites) await tx.query(sql, params);
    // Then the open counters (merchant × region, region), from the same rows, before they are
    // marked done: a report reads counters plus pending rows (open-counts.ts).
    const ids = rows.map((r) => r.id);
    for (const sql of OPEN_COUNTER_UPSERTS) await tx.query(sql, [ids]);
    await tx.query(
      `UPDATE outbox SET state = 'done', done_at = now() WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    const created = rows
      .filter((r) => r.event_type === 'created' && MERCHANT_PHASE.has(r.status))
      .map((r) => ({
        complaintId: r.complaint_id,
        merchantRespondBy: r.merchant_respond_by,
        resolveBy: r.resolve_by,
      }));
    return { drained: rows.length, created };
  });
}
