import { estimateYear } from '../calendar/holiday-estimator';

/**
 * Working days of mainland China, counted in Asia/Shanghai, for the regulator-side limits of
 * DESIGN.md (acceptBy = escalated + 7 working days, mediationEndBy = accepted + 45). Official
 * holidays and the adjusted working days (调休, e.g. a working Saturday) both count as the
 * State Council's yearly notice says.
 */

/** A calendar answers for a local date in Asia/Shanghai, written `YYYY-MM-DD`. */
export interface WorkingDayCalendar {
  isWorkingDay(localDate: string): boolean;
  /** Whether the State Council's arrangement for `year` is known to this calendar. */
  hasOfficialData(year: number): boolean;
  /** The version of the official data of `year` (a calendar without versions answers 1). */
  versionOf?(year: number): number;
}

/** Asia/Shanghai is UTC+8 all year: China has had no daylight saving time since 1991. */
const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseLocalDate(localDate: string): { year: number; month: number; day: number } {
  const m = LOCAL_DATE.exec(localDate);
  if (m) {
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const probe = new Date(Date.UTC(year, month - 1, day));
    if (probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day) {
      return { year, month, day };
    }
  }
  throw new RangeError(`Not a calendar date (YYYY-MM-DD): ${JSON.stringify(localDate)}`);
}

function formatUtcDate(utcMidnight: Date): string {
  return utcMidnight.toISOString().slice(0, 10);
}

/** The local date in Asia/Shanghai of an instant: 2026-09-30T16:30Z is "2026-10-01". */
export function shanghaiDate(instant: Date): string {
  return formatUtcDate(new Date(instant.getTime() + SHANGHAI_OFFSET_MS));
}

/** The last millisecond of a local date in Asia/Shanghai, as an instant (15:59:59.999Z). */
export function endOfShanghaiDay(localDate: string): Date {
  const { year, month, day } = parseLocalDate(localDate);
  return new Date(Date.UTC(year, month - 1, day) + DAY_MS - 1 - SHANGHAI_OFFSET_MS);
}

/** "2026-10-15 23:59 Asia/Shanghai": for messages that people read. */
export function formatShanghai(instant: Date): string {
  const local = new Date(instant.getTime() + SHANGHAI_OFFSET_MS).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 16)} Asia/Shanghai`;
}

function nextLocalDate(localDate: string): string {
  const { year, month, day } = parseLocalDate(localDate);
  return formatUtcDate(new Date(Date.UTC(year, month - 1, day + 1)));
}

/** 0 = Sunday … 6 = Saturday, of the local date itself (no instant, no time zone involved). */
function weekdayOf(localDate: string): number {
  const { year, month, day } = parseLocalDate(localDate);
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

const isMondayToFriday = (localDate: string): boolean => {
  const weekday = weekdayOf(localDate);
  return weekday >= 1 && weekday <= 5;
};

const estimates = new Map<number, ReadonlySet<string>>();

/** The estimated days off of `year` (holiday-estimator.ts), computed once per process. */
function estimatedDaysOff(year: number): ReadonlySet<string> {
  let days = estimates.get(year);
  if (!days) {
    days = new Set(estimateYear(year).holidays);
    estimates.set(year, days);
  }
  return days;
}

/**
 * The rule for a year without an official arrangement (an *estimate*): Monday to Friday, minus
 * the statutory holidays computed from the lunar calendar and the solar terms and their make-up
 * weekdays (see calendar/holiday-estimator.ts). It cannot know the 调休 swaps (working weekends,
 * bridging days), so an estimated deadline can still move when the notice is loaded; every use
 * is reported through `onFallback` and recorded on the deadline's basis.
 */
export function isEstimatedWorkingDay(localDate: string): boolean {
  const { year } = parseLocalDate(localDate);
  return isMondayToFriday(localDate) && !estimatedDaysOff(year).has(localDate);
}

/** The shape of `chinese-days/dist/chinese-days.json` (see ChineseDaysCalendar). */
export interface ChineseDaysData {
  /** Days off by the notice, weekends inside a holiday included: `{ "2026-10-01": "National Day,国庆节,3" }`. */
  holidays: Record<string, string>;
  /** Adjusted working days, typically a Saturday or Sunday: `{ "2026-10-10": "National Day,国庆节,3" }`. */
  workdays: Record<string, string>;
}

function loadChineseDaysData(): ChineseDaysData {
  // The package's published data file (documented in its README): plain `YYYY-MM-DD` keys.
  // Not its functions: isWorkday() & co. build and read their tables through the process's
  // local time zone, and in any zone west of UTC every answer is a day off (with TZ=
  // America/New_York, isWorkday('2026-10-12'), a Monday, is false: getDayDetail answers for
  // 2026-10-11). A server's TZ must not move a legal deadline.
  // tsconfig has no resolveJsonModule, hence require().
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const data: unknown = require('chinese-days/dist/chinese-days.json');
  const isTable = (x: unknown): x is Record<string, string> =>
    typeof x === 'object' && x !== null && Object.values(x).every((v) => typeof v === 'string');
  if (
    typeof data !== 'object' ||
    data === null ||
    !isTable((data as ChineseDaysData).holidays) ||
    !isTable((data as ChineseDaysData).workdays)
  ) {
    throw new Error('chinese-days/dist/chinese-days.json does not have the expected shape');
  }
  return data as ChineseDaysData;
}

/**
 * The official arrangements shipped by the `chinese-days` package (2004 to the latest notice it
 * carries; 1.5.7 ends with 2026). The working-day rule is the package's own `isWorkday`:
 * an adjusted working day works; otherwise Monday–Friday works unless it is a holiday.
 *
 * A year is covered when the package lists holidays in it; every notice has at least New
 * Year's Day. Caveat: a notice can rearrange the last days of the previous year (the 2019
 * notice made 2018-12-29 a working day and 12-30/31 holidays), so the end of December of the
 * latest covered year is only final once the next notice is in the package.
 *
 * `isWorkingDay` refuses a year without data (RangeError) rather than guessing;
 * `addWorkingDays` asks `hasOfficialData` first and counts other years on the estimate.
 */
export class ChineseDaysCalendar implements WorkingDayCalendar {
  readonly coveredYears: readonly number[];
  private readonly covered: ReadonlySet<number>;

  constructor(private readonly data: ChineseDaysData = loadChineseDaysData()) {
    this.covered = new Set(Object.keys(data.holidays).map((d) => Number(d.slice(0, 4))));
    this.coveredYears = [...this.covered].sort((a, b) => a - b);
  }

  hasOfficialData(year: number): boolean {
    return this.covered.has(year);
  }

  /** The package's data is version 1 of each year it covers (the seed of calendar_versions). */
  versionOf(year: number): number {
    return this.covered.has(year) ? 1 : 0;
  }

  isWorkingDay(localDate: string): boolean {
    const { year } = parseLocalDate(localDate);
    if (!this.hasOfficialData(year)) {
      throw new RangeError(
        `chinese-days has no official holiday arrangement for ${year} ` +
          `(covers ${this.coveredYears[0]}–${this.coveredYears[this.coveredYears.length - 1]})`,
      );
    }
    if (localDate in this.data.workdays) return true;
    return isMondayToFriday(localDate) && !(localDate in this.data.holidays);
  }
}

let defaultCalendar: ChineseDaysCalendar | undefined;

/** The process-wide chinese-days calendar, loaded on first use. */
export function chineseDaysCalendar(): ChineseDaysCalendar {
  defaultCalendar ??= new ChineseDaysCalendar();
  return defaultCalendar;
}

export interface AddWorkingDaysOptions {
  /** Defaults to chineseDaysCalendar(). */
  calendar?: WorkingDayCalendar;
  /**
   * Called once per year, in order, whose days had to be counted on the estimate (no official
   * arrangement loaded for it).
   */
  onFallback?: (year: number) => void;
}

export interface WorkingDayDeadline {
  deadline: Date;
  /** Some day was counted on an estimate (a year without official data). */
  usedFallback: boolean;
  /** The years counted on the estimate (empty when usedFallback is false). */
  fallbackYears: number[];
  /**
   * Every year the count walked through, with the version of the official data used
   * (0 = estimated): the deadline's basis, so it can be recomputed when a year changes.
   */
  years: Record<string, number>;
}

/**
 * The end of the n-th working day after `start`, in Asia/Shanghai.
 *
 * Rule: take the local date of `start` in Asia/Shanghai (23:30 there is 15:30Z the same day;
 * 00:30 there is 16:30Z of the previous UTC day, and counts as the new local day). That day
 * itself never counts, whether or not it is a working day and whatever the hour. Walk forward
 * over the following local dates, counting working days; the deadline is 23:59:59.999
 * Asia/Shanghai of the n-th one, i.e. 15:59:59.999Z that date. So "+7 working days" from a
 * Wednesday morning of an ordinary week is the following Friday, 23:59:59.999.
 *
 * A date in a year the calendar has no official data for is counted on the estimate
 * (isEstimatedWorkingDay) and reported through `onFallback`; it is never silently treated as a
 * plain weekday.
 */
export function addWorkingDays(
  start: Date,
  n: number,
  opts: AddWorkingDaysOptions = {},
): WorkingDayDeadline {
  if (Number.isNaN(start.getTime())) throw new RangeError('addWorkingDays: invalid start date');
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`addWorkingDays: n must be a positive integer, got ${n}`);
  }
  const calendar = opts.calendar ?? chineseDaysCalendar();
  const fallbackYears: number[] = [];
  const years: Record<string, number> = {};

  let date = shanghaiDate(start);
  let remaining = n;
  while (remaining > 0) {
    date = nextLocalDate(date);
    const year = Number(date.slice(0, 4));
    let working: boolean;
    if (calendar.hasOfficialData(year)) {
      years[year] ??= calendar.versionOf?.(year) ?? 1;
      working = calendar.isWorkingDay(date);
    } else {
      if (!fallbackYears.includes(year)) {
        fallbackYears.push(year);
        years[year] = 0;
        opts.onFallback?.(year);
      }
      working = isEstimatedWorkingDay(date);
    }
    if (working) remaining -= 1;
  }
  return {
    deadline: endOfShanghaiDay(date),
    usedFallback: fallbackYears.length > 0,
    fallbackYears,
    years,
  };
}
