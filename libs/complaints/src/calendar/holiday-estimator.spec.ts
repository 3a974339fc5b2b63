import { estimateYear, holidayRuleOf, statutoryHolidays } from './holiday-estimator';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const official = require('chinese-days/dist/chinese-days.json') as {
  holidays: Record<string, string>;
};
const officialYears = [
  ...new Set(Object.keys(official.holidays).map((d) => Number(d.slice(0, 4)))),
].sort((a, b) => a - b);

describe('statutory holiday estimator (lunar-javascript)', () => {
  it('has official data to check against: chinese-days covers 2004–2026', () => {
    expect(officialYears[0]).toBe(2004);
    expect(officialYears[officialYears.length - 1]).toBeGreaterThanOrEqual(2026);
  });

  it('names every statutory holiday of every official year (rule in force that year)', () => {
    const missing = officialYears.flatMap((year) =>
      statutoryHolidays(year)
        .filter((h) => !(h.date in official.holidays))
        .map((h) => `${h.date} ${h.name}`),
    );
    // The one difference is a gap in chinese-days' data, not in the estimate: the 2012 notice
    // gives "端午节：6月22日至24日放假公休"; the package lists 22 and 24 June but not Sat 23 June
    // (lunar 5/5). A Saturday, so no working-day count is affected.
    expect(missing).toEqual(['2012-06-23 dragon_boat']);
  });

  it('counts the days the measures give: 13 since 2025, 11 in 2014–2024 and 2008–2013, 10 before', () => {
    expect(statutoryHolidays(2025)).toHaveLength(13);
    expect(statutoryHolidays(2027)).toHaveLength(13);
    expect(statutoryHolidays(2024)).toHaveLength(11);
    expect(statutoryHolidays(2010)).toHaveLength(11);
    expect(statutoryHolidays(2006)).toHaveLength(10);
    expect(holidayRuleOf(2025)).toBe('2025');
    expect(holidayRuleOf(2024)).toBe('2014');
  });

  it('since 2025: the Spring Festival eve and 2 May are holidays; 4 Oct is not', () => {
    const names = (y: number) => new Map(statutoryHolidays(y).map((h) => [h.date, h.name]));
    expect(names(2025).get('2025-01-28')).toBe('spring_festival'); // eve (除夕)
    expect(names(2025).get('2025-05-02')).toBe('labour_day');
    expect(names(2024).has('2024-02-09')).toBe(false); // 2024 eve: not statutory then
    expect(names(2024).has('2024-05-02')).toBe(false);
    expect(names(2027).has('2027-10-04')).toBe(false);
  });

  it('2027: Spring Festival day 1 is Sat 6 Feb, eve Fri 5 Feb; Qingming 5 Apr; Dragon Boat 9 Jun; Mid-Autumn 15 Sep', () => {
    const h = statutoryHolidays(2027);
    expect(h.filter((x) => x.name === 'spring_festival').map((x) => x.date)).toEqual([
      '2027-02-05',
      '2027-02-06',
      '2027-02-07',
      '2027-02-08',
    ]);
    expect(h.find((x) => x.name === 'qingming')?.date).toBe('2027-04-05');
    expect(h.find((x) => x.name === 'dragon_boat')?.date).toBe('2027-06-09');
    expect(h.find((x) => x.name === 'mid_autumn')?.date).toBe('2027-09-15');
  });

  it('makes up a statutory day on a weekend on the next free weekday (Art. 6)', () => {
    const y = estimateYear(2027);
    // Sat 6 and Sun 7 Feb → Tue 9 and Wed 10 Feb (Mon 8 is day 3 itself).
    expect(y.makeUpDays).toContain('2027-02-09');
    expect(y.makeUpDays).toContain('2027-02-10');
    // Sat 1 / Sun 2 May → Mon 3 / Tue 4 May; Sat 2 / Sun 3 Oct → Mon 4 / Tue 5 Oct.
    expect(y.makeUpDays).toEqual(
      expect.arrayContaining(['2027-05-03', '2027-05-04', '2027-10-04', '2027-10-05']),
    );
    expect(y.holidays).toEqual([...new Set(y.holidays)].sort());
  });

  it('places make-up days where the notices did, except in two years (measured)', () => {
    const misplaced = officialYears.flatMap((year) =>
      estimateYear(year).makeUpDays.filter((d) => !(d in official.holidays)),
    );
    // 2012: Dragon Boat on Sat 23 Jun was made up on Fri 22 Jun (before, not after);
    // 2015: Mid-Autumn on Sun 27 Sep was made up inside the National Day week (7 Oct).
    expect(misplaced).toEqual(['2012-06-25', '2015-09-28']);
  });
});
