/**
 * The statutory public holidays of a year, computed from the lunar calendar and the solar terms
 * (lunar-javascript), for years whose State Council notice is not loaded yet (GET
 * /v1/calendar/:year answers them as `estimated`).
 *
 * The rule is 《全国年节及纪念日放假办法》 as in force in that year:
 * - since 2025 (State Council decree 795, amended 2024-11-10): New Year's Day 1 day; Spring
 *   Festival 4 days (eve, days 1–3 of the first lunar month); Qingming 1; Labour Day 2 (1–2 May);
 *   Dragon Boat 1 (5/5 lunar); Mid-Autumn 1 (8/15 lunar); National Day 3 (1–3 Oct). 13 days.
 *   National Day stays 3 days: 4 Oct is never statutory (it is off only through 调休).
 * - 2014–2024 (amended 2013-12-11): the same without the Spring Festival eve and 2 May (11 days).
 * - 2008–2013 (amended 2007-12-14): Spring Festival = eve, days 1–2; Labour Day 1 May only.
 * - before 2008 (1999 rule): Spring Festival days 1–3; Labour Day 1–3 May; National Day 1–3
 *   Oct; no Qingming, Dragon Boat or Mid-Autumn holiday.
 *
 * Article 6 of the same measures: a holiday for all citizens that falls on a Saturday or Sunday
 * is made up on a working day (补假). The estimate gives each such day the first following
 * weekday that is not already off. The 调休 swaps (working weekends, bridging days) exist only in
 * each year's notice and are not estimated.
 */

/** The parts of lunar-javascript used here (the package ships no type declarations). */
interface SolarDay {
  toYmd(): string;
  next(days: number): SolarDay;
}
interface LunarDay {
  getSolar(): SolarDay;
  getJieQiTable(): Record<string, SolarDay>;
}
interface LunarJavascript {
  Lunar: { fromYmd(year: number, month: number, day: number): LunarDay };
}
let lunarModule: LunarJavascript | undefined;
/** Loaded on first use (~70 ms, 430 kB): only estimated years need it. */
function lunarJs(): LunarJavascript {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  lunarModule ??= require('lunar-javascript') as LunarJavascript;
  return lunarModule;
}

export type HolidayName =
  | 'new_year'
  | 'spring_festival'
  | 'qingming'
  | 'labour_day'
  | 'dragon_boat'
  | 'mid_autumn'
  | 'national_day';

export interface StatutoryHoliday {
  date: string;
  name: HolidayName;
}

/** Which version of the measures governs `year` (see the file comment). */
export function holidayRuleOf(year: number): '1999' | '2008' | '2014' | '2025' {
  if (year >= 2025) return '2025';
  if (year >= 2014) return '2014';
  if (year >= 2008) return '2008';
  return '1999';
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The statutory holiday dates of `year`, in date order (no make-up days, no 调休). */
export function statutoryHolidays(year: number): StatutoryHoliday[] {
  if (!Number.isSafeInteger(year) || year < 1901 || year > 2099) {
    throw new RangeError(`statutoryHolidays: year out of range (1901–2099): ${year}`);
  }
  const rule = holidayRuleOf(year);
  const lunar = lunarJs();
  const out: StatutoryHoliday[] = [];
  const add = (name: HolidayName, ...dates: string[]) =>
    dates.forEach((date) => out.push({ date, name }));
  const fixed = (month: number, ...days: number[]) =>
    days.map((d) => `${year}-${pad(month)}-${pad(d)}`);

  add('new_year', ...fixed(1, 1));

  const day1 = lunar.Lunar.fromYmd(year, 1, 1).getSolar();
  const eve = day1.next(-1).toYmd();
  const days = [0, 1, 2].map((i) => day1.next(i).toYmd());
  if (rule === '2025') add('spring_festival', eve, ...days);
  else if (rule === '2008') add('spring_festival', eve, days[0], days[1]);
  else add('spring_festival', ...days);

  add(
    'labour_day',
    ...(rule === '1999' ? fixed(5, 1, 2, 3) : rule === '2025' ? fixed(5, 1, 2) : fixed(5, 1)),
  );
  add('national_day', ...fixed(10, 1, 2, 3));

  if (rule !== '1999') {
    // Solar terms are computed in Beijing time by lunar-javascript, as the notices use them.
    const qingming = lunar.Lunar.fromYmd(year, 1, 1).getJieQiTable()['清明'];
    add('qingming', qingming.toYmd());
    add('dragon_boat', lunar.Lunar.fromYmd(year, 5, 5).getSolar().toYmd());
    add('mid_autumn', lunar.Lunar.fromYmd(year, 8, 15).getSolar().toYmd());
  }
  // The Spring Festival eve of a year can fall in the previous December in no year of the range,
  // but keep only this year's dates (a calendar year is one row).
  return out
    .filter((h) => h.date.startsWith(`${year}-`))
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

const weekday = (date: string): number => new Date(`${date}T00:00:00Z`).getUTCDay();
const nextDate = (date: string): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

export interface EstimatedYear {
  year: number;
  /** Statutory days (whatever the weekday) and their make-up days (补假), sorted. */
  holidays: string[];
  /** The make-up days alone (a subset of `holidays`). */
  makeUpDays: string[];
  statutory: StatutoryHoliday[];
}

/** The estimate for `year`: statutory days plus a weekday off for each one on a weekend. */
export function estimateYear(year: number): EstimatedYear {
  const statutory = statutoryHolidays(year);
  const off = new Set(statutory.map((h) => h.date));
  const makeUpDays: string[] = [];
  for (const h of statutory) {
    const w = weekday(h.date);
    if (w !== 0 && w !== 6) continue;
    let d = nextDate(h.date);
    while (off.has(d) || weekday(d) === 0 || weekday(d) === 6) d = nextDate(d);
    if (!d.startsWith(`${year}-`)) continue;
    off.add(d);
    makeUpDays.push(d);
  }
  return { year, holidays: [...off].sort(), makeUpDays: makeUpDays.sort(), statutory };
}
