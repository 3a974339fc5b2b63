import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ReadRouter } from '@app/database';
import { MerchantReads, OfficeReads } from '@app/directory';
import { DataSource } from 'typeorm';
import { CLOCK, DomainError, HEJIE_CONFIG } from '@app/shared';
import type { Actor, Clock, HejieConfig } from '@app/shared';
import { shanghaiDate } from '../lifecycle/working-days';
import {
  CreditComponent,
  creditScore,
  medianFromHistogram,
  onTimeResponseRate,
  selfResolutionRate,
  verifiedRate,
} from './measures';
import { REGION_HOUR_COLUMNS, RegionHourColumn, outermostPrefixes } from './region-rollups';
import {
  ESCALATED,
  ReportScope,
  SUMS,
  SumRow,
  daysOf,
  regionCondition,
  reportPeriod,
  scopeConditions,
  sumTotals,
  totalsOf,
} from './report-sql';
import { openCountSql } from './open-counts';
import { drainStatsBatch } from './rollup-drain';
import { DeadlineScheduler, newTicketDeadlines } from '../jobs/deadline-scheduler';

export { MAX_PERIOD_DAYS } from './report-sql';

/** The region histogram's bucket columns summed over a day's regions (stats_region_daily). */
const REGION_HOUR_SUMS = REGION_HOUR_COLUMNS.map((c) => `sum(s.${c})::int AS ${c}`).join(', ');

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

export interface CreditReport {
  merchantId: string;
  score: number;
  basis: number;
  components: CreditComponent[];
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
    private readonly scheduler: DeadlineScheduler,
  ) {}

  /**
   * One batch: pending 'stats' outbox rows (SKIP LOCKED, so workers take disjoint rows) become
   * rollup increments, and the rows are marked done in the same transaction: exactly once.
   * Then the new tickets' deadline jobs (newTicketDeadlines), one addBulk for the batch: a
   * creation no longer schedules them itself (a Redis round trip and two BullMQ scripts per
   * request, ≈ 5 % of the API's CPU). They are late by at most one drain (≤ 1 s while a worker
   * runs), against deadlines days away; the sweep finds every due ticket in PostgreSQL anyway.
   */
  async drainBatch(limit = 1000): Promise<number> {
    const { drained, created } = await drainStatsBatch(this.db, limit);
    if (created.length) await this.scheduler.schedule(created.flatMap(newTicketDeadlines));
    return drained;
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
    const { from, to } = reportPeriod(q, this.clock.now());
    const scope = await this.scope(actor, q);
    const params: unknown[] = [];
    const where = scopeConditions(scope, params);
    const scoped = where.length ? `AND ${where.join(' AND ')}` : '';
    const n = params.length;
    const period = [...params, from, to];
    // A merchant's figures from its own rollups (indexes on merchant_id, day): the sums by day
    // and the hours histogram. A region's, a jurisdiction's or everyone's from the region
    // rollups (keyed day, region_code), whose rows carry the histogram as bucket columns: one
    // statement over days × regions rows. Either way the scan covers the period's rows of the
    // scope only, whatever the length of the history.
    const region = scope.merchantId === undefined;
    const [days, hist, [open]] = await Promise.all([
      this.reads.query(
        `SELECT to_char(s.day, 'YYYY-MM-DD') AS day, ${SUMS}${region ? `, ${REGION_HOUR_SUMS}` : ''}
           FROM ${region ? 'stats_region_daily' : 'stats_daily'} s
          WHERE s.day BETWEEN $${n + 1} AND $${n + 2} ${scoped} GROUP BY s.day`,
        period,
      ) as Promise<(SumRow & { day: string } & Partial<Record<RegionHourColumn, number>>)[]>,
      region
        ? undefined
        : (this.reads.query(
            `SELECT s.bucket, sum(s.tickets)::int AS tickets FROM stats_resolve_hours s
              WHERE s.day BETWEEN $${n + 1} AND $${n + 2} ${scoped} GROUP BY s.bucket`,
            period,
          ) as Promise<{ bucket: number; tickets: number }[]>),
      // Open now: counters maintained by the drain plus the pending stats rows, in one
      // statement (one snapshot), so exact at once; bounded by the scope's counter rows and
      // the drain's backlog, not by the scope's open tickets (open-counts.ts).
      this.reads.query(openCountSql(scope.merchantId !== undefined, scoped), params) as Promise<
        { n: number }[]
      >,
    ]);
    const buckets = new Map<number, number>();
    if (hist) for (const h of hist) buckets.set(Number(h.bucket), h.tickets);
    else
      for (const d of days)
        REGION_HOUR_COLUMNS.forEach((c, b) => buckets.set(b, (buckets.get(b) ?? 0) + (d[c] ?? 0)));
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
      medianHoursToResolve: medianFromHistogram(buckets),
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
    if (!(await MerchantReads.exists(this.db, merchantId)))
      throw new DomainError('NOT_FOUND', `merchant ${merchantId} not found`);
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
    const rows: { merchant_id: string; escalations: number }[] = await this.db.query(
      `SELECT s.merchant_id, sum(${ESCALATED})::int AS escalations
         FROM stats_daily s
        WHERE s.day >= $1 ${scope}
        GROUP BY s.merchant_id
       HAVING sum(${ESCALATED}) >= $2
        ORDER BY escalations DESC, s.merchant_id LIMIT 200`,
      params,
    );
    // Names from the directory (at most 200 merchants). Rollups come from tickets, whose
    // merchant_id references merchants; a merchant not found is left out, as a join would.
    const names = await MerchantReads.names(
      this.db,
      rows.map((r) => r.merchant_id),
    );
    return rows.flatMap((r) => {
      const name = names.get(r.merchant_id);
      return name === undefined
        ? []
        : [{ merchantId: r.merchant_id, name, escalations: r.escalations, since }];
    });
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

  private officePrefixes(officeId: string): Promise<string[]> {
    return OfficeReads.prefixes(this.db, officeId);
  }
}
