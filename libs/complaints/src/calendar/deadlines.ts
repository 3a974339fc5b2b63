import { addWorkingDays, shanghaiDate, endOfShanghaiDay } from '../lifecycle/working-days';
import type { WorkingDayCalendar } from '../lifecycle/working-days';

const HOUR_MS = 3_600_000;

/**
 * How a regulator-side deadline was computed, stored per field in `complaints.deadline_basis`
 * ({ acceptBy: {...}, mediationEndBy: {...}, reviewBy: {...} }): enough to say whether it rests
 * on an estimate and to recompute it exactly when a year's official arrangement is loaded.
 */
export interface DeadlineBasis {
  /** `estimated` when any day was counted in a year without official data. */
  basis: 'official' | 'estimated';
  /** The calendar version of the year the deadline falls in (0 = estimated). */
  calendarVersion: number;
  /** Every year counted, with the version used (0 = estimated). Empty for a pure hour limit. */
  years: Record<string, number>;
  /** The instant counting started from (escalation, acceptance, transfer, decision). */
  from: string;
  /** Working days counted (the set's limit plus any extension). */
  workdays: number;
  /** Clock hours before the working days (a set with `acceptHours`), 0 otherwise. */
  hours: number;
  /** The rule set the limit came from. */
  ruleSet: string;
}

export interface DeadlineSpec {
  workdays: number;
  hours?: number;
  ruleSet: string;
}

/**
 * The deadline `spec` from `from` on `calendar`: `hours` clock hours (holidays included: a
 * 24-hour limit is hours, not working days), then `workdays` working days (addWorkingDays: the
 * end of the n-th working day, Asia/Shanghai). A set with an hour limit extended by n working days
 * counts them from the end of its hours.
 */
export function computeDeadline(
  calendar: WorkingDayCalendar,
  from: Date,
  spec: DeadlineSpec,
): { at: Date; basis: DeadlineBasis } {
  const hours = spec.hours ?? 0;
  let at = new Date(from.getTime() + hours * HOUR_MS);
  let years: Record<string, number> = {};
  if (spec.workdays > 0) {
    const r = addWorkingDays(at, spec.workdays, { calendar });
    at = r.deadline;
    years = r.years;
  }
  const estimated = Object.values(years).some((v) => v === 0);
  return {
    at,
    basis: {
      basis: estimated ? 'estimated' : 'official',
      calendarVersion: years[shanghaiDate(at).slice(0, 4)] ?? 0,
      years,
      from: from.toISOString(),
      workdays: spec.workdays,
      hours,
      ruleSet: spec.ruleSet,
    },
  };
}

/** The same deadline recomputed on another calendar (after a year's notice was loaded). */
export function recomputeDeadline(
  calendar: WorkingDayCalendar,
  basis: DeadlineBasis,
): { at: Date; basis: DeadlineBasis } {
  return computeDeadline(calendar, new Date(basis.from), {
    workdays: basis.workdays,
    hours: basis.hours,
    ruleSet: basis.ruleSet,
  });
}

/** Years of `basis` counted on an estimate or an older version than `latest` has now. */
export function staleYears(basis: DeadlineBasis, latest: Record<string, number>): string[] {
  return Object.entries(basis.years)
    .filter(([year, v]) => v < (latest[year] ?? 0))
    .map(([year]) => year);
}

/**
 * "None moves into the past": a recomputed deadline is never set earlier than the end of the
 * current day in Asia/Shanghai, nor earlier than the old deadline when that one has passed or
 * ends today. So an office never finds a deadline already missed because the notice came out,
 * and a deadline that moves later moves fully.
 */
export function clampRecomputed(recomputed: Date, old: Date, now: Date): Date {
  const floor = Math.min(old.getTime(), endOfShanghaiDay(shanghaiDate(now)).getTime());
  return recomputed.getTime() >= floor ? recomputed : new Date(floor);
}

/**
 * The deadlines that carry a basis, with the column, the status in which each one runs and the
 * deadline job kind that enforces it (reviewBy: an appeal's review, flagged overdue by the sweep).
 */
export interface DeadlineField {
  column: 'accept_by' | 'mediation_end_by' | string;
  status: string;
  kind: 'acceptance' | 'mediation' | string;
}

export const DEADLINE_FIELDS: Record<string, DeadlineField> = {
  acceptBy: { column: 'accept_by', status: 'escalated', kind: 'acceptance' },
  mediationEndBy: { column: 'mediation_end_by', status: 'mediating', kind: 'mediation' },
  reviewBy: { column: 'review_by', status: 'appealed', kind: 'appeal_review' },
};
