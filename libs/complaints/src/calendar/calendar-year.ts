import { DomainError } from '@app/shared';
import type { WorkingDayCalendar } from '../lifecycle/working-days';
import { estimateYear } from './holiday-estimator';

export interface CalendarNotice {
  /** The notice's title, e.g. 国务院办公厅关于2027年部分节假日安排的通知. */
  title: string;
  /** Its publication date (YYYY-MM-DD), when known. */
  date: string | null;
  url?: string;
}

/** A year's arrangement as GET /v1/calendar/:year answers it. */
export interface CalendarYear {
  year: number;
  source: 'official' | 'estimated';
  /** The official version (1, 2, …); 0 for an estimate. */
  version: number;
  notice: CalendarNotice | null;
  /** Days off, sorted (official: as the notice lists them, weekends inside a break included). */
  holidays: string[];
  /** Weekend days that are working days (调休), sorted; always empty for an estimate. */
  workdays: string[];
  loadedFrom?: string;
  createdAt?: string;
}

/** What PUT /v1/calendar/:year and a calendar/<year>.json file give. */
export interface CalendarInput {
  notice: CalendarNotice;
  holidays: string[];
  workdays: string[];
}

export const MIN_YEAR = 1901;
export const MAX_YEAR = 2099;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

const weekday = (s: string): number => new Date(`${s}T00:00:00Z`).getUTCDay();

export function assertYear(year: number): void {
  if (!Number.isSafeInteger(year) || year < MIN_YEAR || year > MAX_YEAR) {
    throw new DomainError('VALIDATION_FAILED', `year must be ${MIN_YEAR}–${MAX_YEAR}`, {}, [
      { field: 'year', message: `must be an integer from ${MIN_YEAR} to ${MAX_YEAR}` },
    ]);
  }
}

/**
 * A notice's days, checked: real dates of that year, no duplicates, no day both off and worked,
 * and every 调休 working day on a Saturday or Sunday (a weekday works anyway). 400
 * VALIDATION_FAILED naming the offending entries otherwise. Returns them sorted.
 */
export function normaliseInput(year: number, input: CalendarInput): CalendarInput {
  assertYear(year);
  const errors: { field: string; message: string }[] = [];
  const check = (field: 'holidays' | 'workdays', days: string[]) => {
    const seen = new Set<string>();
    days.forEach((d, i) => {
      if (!isDate(d)) errors.push({ field: `${field}[${i}]`, message: 'not a YYYY-MM-DD date' });
      else if (!d.startsWith(`${year}-`))
        errors.push({ field: `${field}[${i}]`, message: `not in ${year}` });
      else if (seen.has(d)) errors.push({ field: `${field}[${i}]`, message: 'listed twice' });
      else if (field === 'workdays' && weekday(d) !== 0 && weekday(d) !== 6)
        errors.push({
          field: `${field}[${i}]`,
          message: 'a 调休 working day is a Saturday or Sunday',
        });
      seen.add(d);
    });
    return seen;
  };
  const off = check('holidays', input.holidays);
  check('workdays', input.workdays).forEach((d) => {
    if (off.has(d)) errors.push({ field: 'workdays', message: `${d} is also listed as a holiday` });
  });
  if (!input.notice || typeof input.notice.title !== 'string' || !input.notice.title.trim()) {
    errors.push({ field: 'notice.title', message: 'required' });
  }
  if (input.notice?.date != null && !isDate(input.notice.date)) {
    errors.push({ field: 'notice.date', message: 'not a YYYY-MM-DD date' });
  }
  if (errors.length) {
    throw new DomainError('VALIDATION_FAILED', `calendar ${year} is not valid`, {}, errors);
  }
  return {
    notice: {
      title: input.notice.title.trim(),
      date: input.notice.date ?? null,
      ...(input.notice.url ? { url: input.notice.url } : {}),
    },
    holidays: [...input.holidays].sort(),
    workdays: [...input.workdays].sort(),
  };
}

/** The estimate of a year (no notice loaded), in the shape of GET /v1/calendar/:year. */
export function estimatedCalendarYear(year: number): CalendarYear {
  return {
    year,
    source: 'estimated',
    version: 0,
    notice: null,
    holidays: estimateYear(year).holidays,
    workdays: [],
  };
}

interface OfficialTable {
  version: number;
  holidays: ReadonlySet<string>;
  workdays: ReadonlySet<string>;
}

/**
 * The calendar one process counts deadlines with: the latest official version of every year that
 * has one (rows of calendar_versions), `revision` = the highest row id it was read at.
 * Other years are counted on the estimate by addWorkingDays.
 */
export class CalendarSnapshot implements WorkingDayCalendar {
  private readonly tables = new Map<number, OfficialTable>();

  constructor(
    readonly revision: number,
    years: readonly { year: number; version: number; holidays: string[]; workdays: string[] }[],
  ) {
    for (const y of years) {
      this.tables.set(y.year, {
        version: y.version,
        holidays: new Set(y.holidays),
        workdays: new Set(y.workdays),
      });
    }
  }

  hasOfficialData(year: number): boolean {
    return this.tables.has(year);
  }

  versionOf(year: number): number {
    return this.tables.get(year)?.version ?? 0;
  }

  /** year → latest official version, for the years that have one. */
  latestVersions(): Record<string, number> {
    return Object.fromEntries([...this.tables].map(([y, t]) => [String(y), t.version]));
  }

  isWorkingDay(localDate: string): boolean {
    const t = this.tables.get(Number(localDate.slice(0, 4)));
    if (!t) throw new RangeError(`no official arrangement loaded for ${localDate.slice(0, 4)}`);
    if (t.workdays.has(localDate)) return true;
    const w = weekday(localDate);
    return w >= 1 && w <= 5 && !t.holidays.has(localDate);
  }
}
