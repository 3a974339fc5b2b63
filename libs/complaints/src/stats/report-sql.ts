/*
 * The SQL pieces of the statistics reports: the sums of a period read from the rollups, the
 * scope of a report (one merchant's, region prefixes) as conditions, and the period itself.
 */
import { DomainError } from '@app/shared';
import { shanghaiDate } from '../lifecycle/working-days';
import type { Totals } from './measures';
import { regionRange } from './region-rollups';

/** Every escalation counter of the rollups, summed. */
export const ESCALATED = `escalated_no_response + escalated_unresolved + escalated_consumer + escalated_settlement`;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** Longest period of one statistics request, in days (byDay lists each of them). */
export const MAX_PERIOD_DAYS = 366;
export const SUMS = `sum(opened)::int AS opened, sum(self_resolved)::int AS self_resolved,
  sum(verified_self_resolved)::int AS verified_self_resolved,
  sum(escalated_no_response + escalated_unresolved + escalated_consumer + escalated_settlement)::int AS escalated,
  sum(unanswered_late)::int AS unanswered_late, sum(withdrawn)::int AS withdrawn,
  sum(first_responses)::int AS first_responses, sum(first_responses_on_time)::int AS first_responses_on_time,
  sum(mediated)::int AS mediated, sum(mediation_failed)::int AS mediation_failed`;

export interface SumRow {
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

export function totalsOf(r: SumRow | undefined): Totals {
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
export function sumTotals(rows: SumRow[]): Totals {
  const t = totalsOf(undefined);
  for (const r of rows) {
    const d = totalsOf(r);
    for (const k of Object.keys(t) as (keyof Totals)[]) t[k] += d[k];
  }
  return t;
}

/** The Shanghai days from `from` to `to` (YYYY-MM-DD, inclusive), in order. */
export function daysOf(from: string, to: string): string[] {
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
export interface ReportScope {
  merchantId?: string;
  prefixes?: string[];
}

/** The scope as SQL conditions over alias s (a rollup, or complaints: same column names). */
export function scopeConditions(scope: ReportScope, params: unknown[]): string[] {
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
export function regionCondition(prefixes: string[], params: unknown[]): string {
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
 * The period of a report: `to` defaults to today (Shanghai), `from` to 29 days before `to`; both
 * real dates YYYY-MM-DD, in order, at most MAX_PERIOD_DAYS apart (byDay lists every day).
 */
export function reportPeriod(
  q: { from?: string; to?: string },
  now: Date,
): { from: string; to: string } {
  const today = shanghaiDate(now);
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
  return { from, to };
}
