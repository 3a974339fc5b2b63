import { execFileSync } from 'node:child_process';
import {
  ChineseDaysCalendar,
  type WorkingDayCalendar,
  addWorkingDays,
  chineseDaysCalendar,
  endOfShanghaiDay,
  formatShanghai,
  isEstimatedWorkingDay,
  shanghaiDate,
} from './working-days';

/** An instant written as Shanghai wall-clock time: at('2026-09-30 10:00'). */
const at = (local: string): Date => new Date(`${local.replace(' ', 'T')}:00+08:00`);

/** Runs a script in a fresh Node process whose time zone is `zone` (TypeScript if `ts`). */
function runNode(script: string, zone: string, ts = false): string {
  const args = ts ? ['-r', 'ts-node/register/transpile-only', '-e', script] : ['-e', script];
  return execFileSync(process.execPath, args, {
    cwd: __dirname,
    env: { ...process.env, TZ: zone, TS_NODE_TRANSPILE_ONLY: 'true' },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

/** The deadline instant for the end of a Shanghai local date. */
const endOf = (localDate: string): string => `${localDate}T15:59:59.999Z`;

describe('Shanghai local dates', () => {
  it('takes the date in Asia/Shanghai, not in UTC', () => {
    expect(shanghaiDate(new Date('2026-09-30T15:30:00Z'))).toBe('2026-09-30'); // 23:30 local
    expect(shanghaiDate(new Date('2026-09-30T16:30:00Z'))).toBe('2026-10-01'); // 00:30 local
  });

  it('ends a local day at 23:59:59.999 +08:00', () => {
    expect(endOfShanghaiDay('2026-10-15').toISOString()).toBe('2026-10-15T15:59:59.999Z');
    expect(endOfShanghaiDay('2026-12-31').toISOString()).toBe('2026-12-31T15:59:59.999Z');
  });

  it('formats for people', () => {
    expect(formatShanghai(new Date('2026-10-15T15:59:59.999Z'))).toBe(
      '2026-10-15 23:59 Asia/Shanghai',
    );
  });
});

describe('ChineseDaysCalendar (chinese-days 1.5.x data)', () => {
  const calendar = chineseDaysCalendar();

  it('covers 2004 to 2026 and knows it has nothing for 2027 or 2003', () => {
    expect(calendar.coveredYears[0]).toBe(2004);
    expect(calendar.coveredYears).toContain(2026);
    expect(calendar.hasOfficialData(2026)).toBe(true);
    expect(calendar.hasOfficialData(2003)).toBe(false);
    // 1.5.7 ends with 2026; a later release adding 2027 should make this test be updated.
    expect(calendar.hasOfficialData(2027)).toBe(false);
  });

  it('follows the 2026 National Day notice: 1–7 Oct off, Sun 20 Sep and Sat 10 Oct worked', () => {
    for (const d of ['01', '02', '03', '04', '05', '06', '07']) {
      expect(calendar.isWorkingDay(`2026-10-${d}`)).toBe(false);
    }
    expect(calendar.isWorkingDay('2026-09-30')).toBe(true);
    expect(calendar.isWorkingDay('2026-10-08')).toBe(true);
    expect(calendar.isWorkingDay('2026-09-20')).toBe(true); // Sunday, make-up day
    expect(calendar.isWorkingDay('2026-10-10')).toBe(true); // Saturday, make-up day
    expect(calendar.isWorkingDay('2026-10-11')).toBe(false); // ordinary Sunday
    expect(calendar.isWorkingDay('2026-10-12')).toBe(true); // ordinary Monday
  });

  it('follows the 2026 Spring Festival notice: 15–23 Feb off, Sat 14 and Sat 28 Feb worked', () => {
    expect(calendar.isWorkingDay('2026-02-14')).toBe(true);
    expect(calendar.isWorkingDay('2026-02-16')).toBe(false); // Monday in the holiday
    expect(calendar.isWorkingDay('2026-02-23')).toBe(false); // Monday, last day off
    expect(calendar.isWorkingDay('2026-02-24')).toBe(true);
    expect(calendar.isWorkingDay('2026-02-28')).toBe(true);
    expect(calendar.isWorkingDay('2026-03-07')).toBe(false); // ordinary Saturday
  });

  it('refuses to guess a year it has no data for', () => {
    expect(() => calendar.isWorkingDay('2027-01-04')).toThrow(/no official .* for 2027/);
  });

  it('can be built from other data of the same shape (e.g. a newer notice)', () => {
    const next = new ChineseDaysCalendar({
      holidays: { '2030-01-01': "New Year's Day,元旦,1" },
      workdays: { '2030-01-05': "New Year's Day,元旦,1" },
    });
    expect(next.coveredYears).toEqual([2030]);
    expect(next.isWorkingDay('2030-01-01')).toBe(false); // Tuesday, holiday
    expect(next.isWorkingDay('2030-01-05')).toBe(true); // Saturday, make-up day
    expect(next.isWorkingDay('2030-01-06')).toBe(false); // Sunday
  });

  it('refuses what is not a calendar date', () => {
    expect(() => calendar.isWorkingDay('2026-02-30')).toThrow(RangeError);
    expect(() => calendar.isWorkingDay('2026-9-30')).toThrow(RangeError);
  });

  it("agrees with chinese-days' own isWorkday/isHoliday on every day 2004–2026", () => {
    // The package's functions are right only when the process runs at or east of UTC (see
    // loadChineseDaysData), so ask them in a child process with TZ=Asia/Shanghai. Jest's
    // `process.env` is a copy: setting TZ inside a test would not move the real clock zone.
    const script = `
      const cd = require('chinese-days');
      let out = '';
      for (let t = Date.UTC(2004, 0, 1); t <= Date.UTC(2026, 11, 31); t += 86400000) {
        const d = new Date(t).toISOString().slice(0, 10);
        out += d + (cd.isWorkday(d) ? 'W' : '-') + (cd.isHoliday(d) ? 'H' : '-') + '\\n';
      }
      process.stdout.write(out);`;
    const lines = runNode(script, 'Asia/Shanghai').trim().split('\n');
    expect(lines).toHaveLength(8401); // 23 years, 6 of them leap
    const disagreements = lines.filter((line) => {
      const [d, flags] = [line.slice(0, 10), line.slice(10)];
      const ours = calendar.isWorkingDay(d);
      return flags !== (ours ? 'W-' : '-H');
    });
    expect(disagreements).toEqual([]);
  });
});

describe('estimate for a year without official data', () => {
  it('is Monday–Friday minus the statutory holidays of the lunar calendar and their make-up days', () => {
    expect(isEstimatedWorkingDay('2027-01-01')).toBe(false); // Friday, New Year's Day
    expect(isEstimatedWorkingDay('2027-01-04')).toBe(true); // Monday
    expect(isEstimatedWorkingDay('2027-01-02')).toBe(false); // Saturday
    expect(isEstimatedWorkingDay('2027-02-05')).toBe(false); // Friday, Spring Festival eve
    expect(isEstimatedWorkingDay('2027-02-08')).toBe(false); // Monday, day 3
    expect(isEstimatedWorkingDay('2027-02-09')).toBe(false); // make-up for Sat 6 Feb
    expect(isEstimatedWorkingDay('2027-02-10')).toBe(false); // make-up for Sun 7 Feb
    expect(isEstimatedWorkingDay('2027-02-11')).toBe(true);
    expect(isEstimatedWorkingDay('2028-05-01')).toBe(false); // Monday, Labour Day
    expect(isEstimatedWorkingDay('2028-05-02')).toBe(false); // Tuesday, Labour Day (since 2025)
    expect(isEstimatedWorkingDay('2028-05-03')).toBe(true);
    expect(isEstimatedWorkingDay('2027-10-01')).toBe(false);
    expect(isEstimatedWorkingDay('2027-10-04')).toBe(false); // make-up for Sat 2 Oct
  });

  it('no longer ends 45 working days from 4 Dec 2026 inside the 2027 Spring Festival (issue 15)', () => {
    // The old fixed-date fallback ended on Mon 8 Feb 2027, day 3 of the Spring Festival. Now:
    // 19 working days in Dec 2026, 1 Jan off, 4–29 Jan (39), 1–4 Feb (43), 5–10 Feb off, 11–12 (45).
    const r = addWorkingDays(at('2026-12-04 10:00'), 45);
    expect(r.deadline.toISOString()).toBe(endOf('2027-02-12'));
    expect(r.years).toEqual({ 2026: 1, 2027: 0 });
  });
});

describe('addWorkingDays', () => {
  it('escalated on 30 Sep 2026, just before National Day: +7 working days is Thu 15 Oct', () => {
    // 1–7 Oct off; 8 (1), 9 (2), Sat 10 make-up (3), 12 (4), 13 (5), 14 (6), 15 (7).
    const result = addWorkingDays(at('2026-09-30 10:00'), 7);
    expect(result.deadline.toISOString()).toBe(endOf('2026-10-15'));
    expect(result.usedFallback).toBe(false);
    expect(result.fallbackYears).toEqual([]);
    expect(result.years).toEqual({ 2026: 1 });
  });

  it.each<[string, string, number, string]>([
    [
      'a make-up Saturday counts (Sat 9 May 2026, after Labour Day)',
      '2026-05-08 09:00',
      1,
      '2026-05-09',
    ],
    // Fri 13 Feb: Sat 14 (1), 15–23 off, 24 (2), 25 (3), 26 (4), 27 (5), Sat 28 (6), Mon 2 Mar (7).
    [
      'both Spring Festival make-up Saturdays count (14 and 28 Feb 2026)',
      '2026-02-13 12:00',
      7,
      '2026-03-02',
    ],
    // From Fri 18 Sep: Sun 20 Sep make-up (1), 21–24 (5), 25 Sep Mid-Autumn off, 28–30 (8),
    // 1–7 Oct off, 8–9 (10), Sat 10 Oct make-up (11), then five full weeks to 20 Nov (41),
    // 23–26 Nov (45). Plain weekdays would have given Fri 20 Nov.
    ['45 working days across Mid-Autumn and National Day', '2026-09-18 16:00', 45, '2026-11-26'],
    [
      'starting on a Saturday: the first working day is the Monday',
      '2026-03-07 11:00',
      1,
      '2026-03-09',
    ],
    ['starting on a Saturday, 7 working days', '2026-03-07 11:00', 7, '2026-03-17'],
    ['never the start day itself, at midnight', '2026-03-10 00:00', 1, '2026-03-11'],
    ['never the start day itself, at 23:59', '2026-03-10 23:59', 1, '2026-03-11'],
  ])('%s: from %s, +%i working days ends on %s', (_what, start, days, end) => {
    expect(addWorkingDays(at(start), days).deadline.toISOString()).toBe(endOf(end));
  });

  it('late at night in Shanghai: 23:30 local is 15:30Z, the local date decides', () => {
    // Tue 10 Mar 2026, 23:30 in Shanghai → the start day is Tuesday → Wednesday.
    const lateTuesday = new Date('2026-03-10T15:30:00Z');
    expect(addWorkingDays(lateTuesday, 1).deadline.toISOString()).toBe(endOf('2026-03-11'));
    // One hour later it is 00:30 Wednesday in Shanghai while still Tuesday in UTC → Thursday.
    const earlyWednesday = new Date('2026-03-10T16:30:00Z');
    expect(addWorkingDays(earlyWednesday, 1).deadline.toISOString()).toBe(endOf('2026-03-12'));
  });

  it('uses and reports the estimate for a year without data (2027), once per year', () => {
    const onFallback = jest.fn();
    // Mon 28 Dec 2026: 29 (1), 30 (2), 31 (3), Fri 1 Jan 2027 New Year's Day, 4–7 Jan (7).
    const result = addWorkingDays(at('2026-12-28 10:00'), 7, { onFallback });
    expect(result.deadline.toISOString()).toBe(endOf('2027-01-07'));
    expect(result.usedFallback).toBe(true);
    expect(result.fallbackYears).toEqual([2027]);
    expect(onFallback).toHaveBeenCalledTimes(1);
    expect(onFallback).toHaveBeenCalledWith(2027);
  });

  it('does not report the estimate when the walk stays inside covered years', () => {
    const onFallback = jest.fn();
    addWorkingDays(at('2026-12-21 10:00'), 8, { onFallback }); // ends Thu 31 Dec 2026
    expect(onFallback).not.toHaveBeenCalled();
  });

  it('asks an injected calendar, and only for years it has data for', () => {
    const asked: string[] = [];
    const everyDayWorks: WorkingDayCalendar = {
      isWorkingDay: (d) => (asked.push(d), true),
      hasOfficialData: (year) => year === 2030,
    };
    const result = addWorkingDays(at('2030-12-30 09:00'), 3, { calendar: everyDayWorks });
    // 31 Dec 2030 from the calendar (1); 1 Jan 2031 by the estimate is a holiday; Thu 2 (2), Fri 3 (3).
    expect(asked).toEqual(['2030-12-31']);
    expect(result.deadline.toISOString()).toBe(endOf('2031-01-03'));
    expect(result.fallbackYears).toEqual([2031]);
  });

  it.each(['America/New_York', 'Pacific/Kiritimati', 'UTC'])(
    'gives the same answers with the process in %s',
    (zone) => {
      const script = `
        const w = require('./working-days');
        const deadline = (iso, n) => w.addWorkingDays(new Date(iso), n).deadline.toISOString();
        process.stdout.write(JSON.stringify({
          offset: new Date('2026-03-10T00:00:00Z').getTimezoneOffset(),
          monday: w.chineseDaysCalendar().isWorkingDay('2026-10-12'),
          nationalDay: deadline('2026-09-30T02:00:00Z', 7),
          afterMidnight: deadline('2026-03-10T16:30:00Z', 1),
        }));`;
      const answers = JSON.parse(runNode(script, zone, true)) as Record<string, unknown>;
      expect(answers).toEqual({
        offset: { 'America/New_York': 240, 'Pacific/Kiritimati': -840, UTC: 0 }[zone],
        monday: true,
        nationalDay: endOf('2026-10-15'),
        afterMidnight: endOf('2026-03-12'),
      });
    },
  );

  it.each([0, -1, 1.5, Number.NaN])('refuses n = %p', (n) => {
    expect(() => addWorkingDays(at('2026-03-10 10:00'), n)).toThrow(/positive integer/);
  });

  it('refuses an invalid start', () => {
    expect(() => addWorkingDays(new Date('nope'), 1)).toThrow(/invalid start/);
  });
});
