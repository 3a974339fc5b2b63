import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ReadRouter } from '@app/database';
import { DataSource } from 'typeorm';
import { CLOCK, DomainError, HEJIE_CONFIG } from '@app/shared';
import type { Actor, Clock, HejieConfig } from '@app/shared';
import { shanghaiDate } from '../lifecycle/working-days';
import {
  CreditComponent,
  ROLLUP_COUNTERS,
  RollupCounter,
  StatsEvent,
  Totals,
  creditScore,
  deltasOf,
  medianFromHistogram,
  onTimeResponseRate,
  resolveBucket,
  selfResolutionRate,
  verifiedRate,
} from './measures';
import {
  outermostPrefixes,
  regionDailyUpsert,
  regionHoursUpsert,
  regionRange,
} from './region-rollups';

export interface SelfResolutionQuery {
  from?: string;
  to?: string;
  regionCode?: string;
  merchantId?: string;
}

export interface SelfResolutionReport {
  from: string;
  to: string;
  selfResolved: number;
  /** Settled by a recorded refund or the consumer's confirmation. */
  verifiedSelfResolved: number;
  escalated: number;
  withdrawn: number;
  open: number;
  rate: number | null;
  /** verifiedSelfResolved ÷ (selfResolved + escalated). */
  verifiedRate: number | null;
  merchantOnTimeResponseRate: number | null;
  medianHoursToResolve: number | null;
  byDay: {
    day: string;
    selfResolved: number;
    verifiedSelfResolved: number;
    escalated: number;
    rate: number | null;
    verifiedRate: number | null;
  }[];
}

/** Every escalation counter of the rollups, summed. */
const ESCALATED = `escalated_no_response + escalated_unresolved + escalated_consumer + escalated_settlement`;

export interface CreditReport {
  merchantId: string;
  score: number;
  basis: number;
  components: CreditComponent[];
}

interface DrainRow {
  id: string;
  event_type: string;
  payload: { actor: { role: string }; at: string; data: StatsEvent['data'] };
  region_code: string;
  merchant_id: string;
  created_at: Date;
  merchant_respond_by: Date;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** Longest period of one statistics request, in days (byDay lists each of them). */
export const MAX_PERIOD_DAYS = 366;
const SUMS = `sum(opened)::int AS opened, sum(self_resolved)::int AS self_resolved,
  sum(verified_self_resolved)::int AS verified_self_resolved,
  sum(escalated_no_response + escalated_unresolved + escalated_consumer + escalated_settlement)::int AS escalated,
  sum(unanswered_late)::int AS unanswered_late, sum(withdrawn)::int AS withdrawn,
  sum(first_responses)::int AS first_responses, sum(first_responses_on_time)::int AS first_responses_on_time,
  sum(mediated)::int AS mediated, sum(mediation_failed)::int AS mediation_failed`;

interface SumRow {
  opened: number | null;
  self_resolved: number | null;
  verified_self_resolved: number | null;
  escalated: number | null;
  unanswered_late: number | null;
  withdrawn: number | null;
  first_responses: number | null;
  first_responses_on_time: number | null;
  mediated: number | null;
  mediation_failed: number | null;
}

function totalsOf(r: SumRow | undefined): Totals {
  return {
    opened: r?.opened ?? 0,
    selfResolved: r?.self_resolved ?? 0,
    verifiedSelfResolved: r?.verified_self_resolved ?? 0,
    escalated: r?.escalated ?? 0,
    unansweredLate: r?.unanswered_late ?? 0,
    withdrawn: r?.withdrawn ?? 0,
    firstResponses: r?.first_responses ?? 0,
    firstResponsesOnTime: r?.first_responses_on_time ?? 0,
    mediated: r?.mediated ?? 0,
    mediationFailed: r?.mediation_failed ?? 0,
  };
}

/** The totals of a period from its days' sums. */
function sumTotals(rows: SumRow[]): Totals {
  const t = totalsOf(undefined);
  for (const r of rows) {
    const d = totalsOf(r);
    for (const k of Object.keys(t) as (keyof Totals)[]) t[k] += d[k];
  }
  return t;
}

/** The Shanghai days from `from` to `to` (YYYY-MM-DD, inclusive), in order. */
function daysOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (
    let ms = Date.parse(`${from}T00:00:00Z`);
    ms <= Date.parse(`${to}T00:00:00Z`);
    ms += 86_400_000
  )
    out.push(new Date(ms).toISOString().slice(0, 10));
  return out;
}

/** Whose tickets a report covers: one merchant's, and region prefixes (undefined: everywhere; empty: nowhere). */
interface ReportScope {
  merchantId?: string;
  prefixes?: string[];
}

/** The scope as SQL conditions over alias s (a rollup, or complaints: same column names). */
function scopeConditions(scope: ReportScope, params: unknown[]): string[] {
  const where: string[] = [];
  if (scope.merchantId !== undefined) {
    params.push(scope.merchantId);
    where.push(`s.merchant_id = $${params.length}`);
  }
  if (scope.prefixes) where.push(regionCondition(scope.prefixes, params));
  return where;
}

/**
 * s.region_code within any of `prefixes`, as ranges a btree on region_code can use (see
 * regionRange); `false` for none.
 */
function regionCondition(prefixes: string[], params: unknown[]): string {
  if (!prefixes.length) return 'false';
  const p = (v: string) => {
    params.push(v);
    return `$${params.length}::bpchar`;
  };
  const ranges = prefixes.map((prefix) => {
    const { low, high } = regionRange(prefix);
    return high === undefined
      ? `s.region_code >= ${p(low)}`
      : `(s.region_code >= ${p(low)} AND s.region_code < ${p(high)})`;
  });
  return ranges.length === 1 ? ranges[0] : `(${ranges.join(' OR ')})`;
}

/**
 * The self-resolution measures of DESIGN.md: rollups maintained from the outbox, and the
 * reports, scores and lists read from them.
 */
@Injectable()
export class StatsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly reads: ReadRouter,
  ) {}

  /**
   * One batch: pending 'stats' outbox rows (SKIP LOCKED, so workers take disjoint rows) become
   * rollup increments, and the rows are marked done in the same transaction: exactly once.
   */
  async drainBatch(limit = 1000): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows: DrainRow[] = await tx.query(
        `SELECT o.id, o.event_type, o.payload, c.region_code, c.merchant_id, c.created_at, c.merchant_respond_by
           FROM outbox o JOIN complaints c ON c.id = o.complaint_id
          WHERE o.topic = 'stats' AND o.state = 'pending'
          ORDER BY o.id LIMIT $1
          FOR UPDATE OF o SKIP LOCKED`,
        [limit],
      );
      if (!rows.length) return 0;
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
          regionDailyUpsert(
            `${increments} AS s(day, region_code, merchant_id, ${cols.join(', ')})`,
          ),
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
      // Tables in one order (per-merchant daily, hours, region daily, hours) and rows in key
      // order within each: two workers never wait for each other in a cycle.
      for (const [sql, params] of regionWrites) await tx.query(sql, params);
      await tx.query(
        `UPDATE outbox SET state = 'done', done_at = now() WHERE id = ANY($1::bigint[])`,
        [rows.map((r) => r.id)],
      );
      return rows.length;
    });
  }

  /**
   * Whose tickets a caller's report covers. A regulator's jurisdiction is its office's region
   * prefixes; asking for a region outside it is 403 (the office knows the region exists: it is
   * no secret), and a region inside it is then the whole scope.
   */
  private async scope(actor: Actor, q: SelfResolutionQuery): Promise<ReportScope> {
    const asked = q.regionCode ? [q.regionCode] : undefined;
    switch (actor.role) {
      case 'consumer':
        throw new DomainError('FORBIDDEN', 'statistics are for merchants, regulators and admins');
      case 'merchant':
        if (q.merchantId && q.merchantId !== actor.merchantId) {
          throw new DomainError('FORBIDDEN', 'merchants see their own statistics only');
        }
        return { merchantId: actor.merchantId, prefixes: asked };
      case 'regulator': {
        const prefixes = await this.officePrefixes(actor.officeId!);
        if (q.regionCode && !prefixes.some((x) => q.regionCode!.startsWith(x))) {
          throw new DomainError(
            'FORBIDDEN',
            `region ${q.regionCode} is outside this office's jurisdiction`,
          );
        }
        return { merchantId: q.merchantId, prefixes: asked ?? outermostPrefixes(prefixes) };
      }
      case 'admin':
        return { merchantId: q.merchantId, prefixes: asked };
    }
  }

  async selfResolution(actor: Actor, q: SelfResolutionQuery): Promise<SelfResolutionReport> {
    const today = shanghaiDate(this.clock.now());
    const to = q.to ?? today;
    const from =
      q.from ?? shanghaiDate(new Date(Date.parse(`${to}T00:00:00+08:00`) - 29 * 86_400_000));
    for (const [name, v] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (
        !DAY.test(v) ||
        Number.isNaN(Date.parse(`${v}T00:00:00Z`)) ||
        new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v
      ) {
        throw new DomainError('VALIDATION_FAILED', `${name} must be a date YYYY-MM-DD`, {}, [
          { field: name, message: 'YYYY-MM-DD' },
        ]);
      }
    }
    if (from > to) {
      throw new DomainError('VALIDATION_FAILED', 'from must not be after to', {}, [
        { field: 'from', message: 'after to' },
      ]);
    }
    // byDay lists every day of the period, so the period is bounded (a leap year).
    if (Date.parse(to) - Date.parse(from) > (MAX_PERIOD_DAYS - 1) * 86_400_000) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `the period may span at most ${MAX_PERIOD_DAYS} days`,
        {},
        [{ field: 'from', message: `at most ${MAX_PERIOD_DAYS} days before to` }],
      );
    }
    const scope = await this.scope(actor, q);
    const params: unknown[] = [];
    const where = scopeConditions(scope, params);
    const scoped = where.length ? `AND ${where.join(' AND ')}` : '';
    const n = params.length;
    const period = [...params, from, to];
    // A merchant's figures from its own rollups (indexes on merchant_id, day); a region's, a
    // jurisdiction's or everyone's from the region rollups (keyed day, region_code). Either way
    // the scan covers the period's rows of the scope only, whatever the length of the history.
    const [daily, hours] =
      scope.merchantId === undefined
        ? ['stats_region_daily', 'stats_region_resolve_hours']
        : ['stats_daily', 'stats_resolve_hours'];
    const [days, hist, [open]] = await Promise.all([
      this.reads.query(
        `SELECT to_char(s.day, 'YYYY-MM-DD') AS day, ${SUMS} FROM ${daily} s
          WHERE s.day BETWEEN $${n + 1} AND $${n + 2} ${scoped} GROUP BY s.day`,
        period,
      ) as Promise<(SumRow & { day: string })[]>,
      this.reads.query(
        `SELECT s.bucket, sum(s.tickets)::int AS tickets FROM ${hours} s
          WHERE s.day BETWEEN $${n + 1} AND $${n + 2} ${scoped} GROUP BY s.bucket`,
        period,
      ) as Promise<{ bucket: number; tickets: number }[]>,
      // Open now: the one figure not from the rollups. Tickets in the merchant phase today,
      // counted on the small partial indexes of open tickets, ix_complaints_open (merchant) and
      // ix_complaints_open_region (bounded by the scope's open tickets, not by history, and
      // exact at once, where the rollups lag by a drain).
      this.reads.query(
        `SELECT count(*)::int AS n FROM complaints s
          WHERE s.status IN ('awaiting_merchant', 'in_negotiation', 'settling') ${scoped}`,
        params,
      ) as Promise<{ n: number }[]>,
    ]);
    const t = sumTotals(days);
    const byDayOf = new Map(days.map((d) => [d.day, d]));
    return {
      from,
      to,
      selfResolved: t.selfResolved,
      verifiedSelfResolved: t.verifiedSelfResolved,
      escalated: t.escalated,
      withdrawn: t.withdrawn,
      open: open.n,
      rate: selfResolutionRate(t.selfResolved, t.escalated),
      verifiedRate: verifiedRate(t.verifiedSelfResolved, t.selfResolved, t.escalated),
      merchantOnTimeResponseRate: onTimeResponseRate(t),
      medianHoursToResolve: medianFromHistogram(
        new Map(hist.map((h) => [Number(h.bucket), h.tickets])),
      ),
      // Every day of the period, zeros included, so a chart needs no gap filling.
      byDay: daysOf(from, to).map((day) => {
        const d = totalsOf(byDayOf.get(day));
        return {
          day,
          selfResolved: d.selfResolved,
          verifiedSelfResolved: d.verifiedSelfResolved,
          escalated: d.escalated,
          rate: selfResolutionRate(d.selfResolved, d.escalated),
          verifiedRate: verifiedRate(d.verifiedSelfResolved, d.selfResolved, d.escalated),
        };
      }),
    };
  }

  /** Public merchant credit from all of the merchant's rollups. */
  async credit(merchantId: string): Promise<CreditReport> {
    const [m]: unknown[] = await this.db.query('SELECT 1 FROM merchants WHERE id = $1', [
      merchantId,
    ]);
    if (!m) throw new DomainError('NOT_FOUND', `merchant ${merchantId} not found`);
    const [sums]: SumRow[] = await this.db.query(
      `SELECT ${SUMS} FROM stats_daily s WHERE s.merchant_id = $1`,
      [merchantId],
    );
    return { merchantId, ...creditScore(totalsOf(sums)) };
  }

  /**
   * Consumers with many tickets against many merchants in a short window (thresholds are
   * configuration). For regulators (their jurisdiction) and admins only; never for merchants.
   */
  async serialComplainants(
    actor: Actor,
  ): Promise<{ consumerId: string; tickets: number; merchants: number; since: string }[]> {
    const since = new Date(this.clock.now().getTime() - this.config.serialComplainantWindowMs);
    const params: unknown[] = [
      since,
      this.config.serialComplainantMinTickets,
      this.config.serialComplainantMinMerchants,
    ];
    let scope = '';
    if (actor.role === 'regulator') {
      params.push((await this.officePrefixes(actor.officeId!)).map((x) => `${x}%`));
      scope = `AND region_code LIKE ANY ($4::text[])`;
    } else if (actor.role !== 'admin') {
      throw new DomainError('FORBIDDEN', 'this list is for regulators and admins');
    }
    const rows: { consumer_id: string; tickets: number; merchants: number }[] = await this.db.query(
      `SELECT consumer_id, count(*)::int AS tickets, count(DISTINCT merchant_id)::int AS merchants
         FROM complaints WHERE created_at >= $1 ${scope}
        GROUP BY consumer_id HAVING count(*) >= $2 AND count(DISTINCT merchant_id) >= $3
        ORDER BY tickets DESC, consumer_id LIMIT 200`,
      params,
    );
    return rows.map((r) => ({
      consumerId: r.consumer_id,
      tickets: r.tickets,
      merchants: r.merchants,
      since: since.toISOString(),
    }));
  }

  /** Which of these consumers are serial complainants now. */
  async serialComplainantsAmong(consumerIds: string[]): Promise<Set<string>> {
    if (!consumerIds.length) return new Set();
    const since = new Date(this.clock.now().getTime() - this.config.serialComplainantWindowMs);
    const rows: { consumer_id: string }[] = await this.db.query(
      `SELECT consumer_id FROM complaints WHERE consumer_id = ANY($1::text[]) AND created_at >= $2
        GROUP BY consumer_id HAVING count(*) >= $3 AND count(DISTINCT merchant_id) >= $4`,
      [
        [...new Set(consumerIds)],
        since,
        this.config.serialComplainantMinTickets,
        this.config.serialComplainantMinMerchants,
      ],
    );
    return new Set(rows.map((r) => r.consumer_id));
  }

  /** Merchants with many escalations in the window, from the rollups. */
  async repeatOffenders(
    actor: Actor,
  ): Promise<{ merchantId: string; name: string; escalations: number; since: string }[]> {
    const since = shanghaiDate(
      new Date(this.clock.now().getTime() - this.config.repeatOffenderWindowMs),
    );
    const params: unknown[] = [since, this.config.repeatOffenderMinEscalations];
    let scope = '';
    // A ranking by merchant needs the per-merchant rollups: the window's rows of the scope.
    if (actor.role === 'regulator') {
      const prefixes = outermostPrefixes(await this.officePrefixes(actor.officeId!));
      scope = `AND ${regionCondition(prefixes, params)}`;
    } else if (actor.role !== 'admin') {
      throw new DomainError('FORBIDDEN', 'this list is for regulators and admins');
    }
    const rows: { merchant_id: string; name: string; escalations: number }[] = await this.db.query(
      `SELECT s.merchant_id, m.name, sum(${ESCALATED})::int AS escalations
         FROM stats_daily s JOIN merchants m ON m.id = s.merchant_id
        WHERE s.day >= $1 ${scope}
        GROUP BY s.merchant_id, m.name
       HAVING sum(${ESCALATED}) >= $2
        ORDER BY escalations DESC, s.merchant_id LIMIT 200`,
      params,
    );
    return rows.map((r) => ({
      merchantId: r.merchant_id,
      name: r.name,
      escalations: r.escalations,
      since,
    }));
  }

  /**
   * For /metrics: escalations by reason and the self-resolution rate per region (last 30 days),
   * from the region rollups (days × regions rows, not days × merchants).
   */
  async metricsSnapshot(): Promise<{
    escalationsByReason: Record<string, number>;
    rateByRegion: { regionCode: string; rate: number | null; verifiedRate: number | null }[];
  }> {
    const since = shanghaiDate(new Date(this.clock.now().getTime() - 30 * 86_400_000));
    const [e]: { no_response: number; unresolved: number; consumer: number; settlement: number }[] =
      await this.db.query(
        `SELECT coalesce(sum(escalated_no_response), 0)::int AS no_response,
              coalesce(sum(escalated_unresolved), 0)::int AS unresolved,
              coalesce(sum(escalated_consumer), 0)::int AS consumer,
              coalesce(sum(escalated_settlement), 0)::int AS settlement FROM stats_region_daily`,
      );
    const regions: {
      region_code: string;
      self_resolved: number;
      verified: number;
      escalated: number;
    }[] = await this.db.query(
      `SELECT region_code, sum(self_resolved)::int AS self_resolved,
              sum(verified_self_resolved)::int AS verified, sum(${ESCALATED})::int AS escalated
         FROM stats_region_daily WHERE day >= $1 GROUP BY region_code`,
      [since],
    );
    return {
      escalationsByReason: {
        merchant_no_response: e.no_response,
        unresolved_in_time: e.unresolved,
        consumer_request: e.consumer,
        settlement_not_fulfilled: e.settlement,
      },
      rateByRegion: regions.map((r) => ({
        regionCode: r.region_code,
        rate: selfResolutionRate(r.self_resolved, r.escalated),
        verifiedRate: verifiedRate(r.verified, r.self_resolved, r.escalated),
      })),
    };
  }

  private async officePrefixes(officeId: string): Promise<string[]> {
    const rows: { prefix: string }[] = await this.db.query(
      'SELECT prefix FROM office_regions WHERE office_id = $1',
      [officeId],
    );
    return rows.map((r) => r.prefix);
  }
}
