import { chineseDaysCalendar } from '../lifecycle/working-days';
import { CalendarSnapshot } from './calendar-year';
import { clampRecomputed, computeDeadline, recomputeDeadline, staleYears } from './deadlines';

const official2026 = chineseDaysCalendar();

describe('computeDeadline', () => {
  it('counts a 24-hour limit in clock hours, through a weekend and a holiday', () => {
    const from = new Date('2026-09-30T10:00:00Z'); // the eve of National Day
    const r = computeDeadline(official2026, from, { hours: 24, workdays: 0, ruleSet: 'p' });
    expect(r.at.toISOString()).toBe('2026-10-01T10:00:00.000Z');
    expect(r.basis).toMatchObject({ basis: 'official', years: {}, hours: 24, workdays: 0 });
  });

  it('an hour limit extended by working days counts them from the end of its hours', () => {
    const from = new Date('2026-09-30T10:00:00Z');
    const r = computeDeadline(official2026, from, { hours: 24, workdays: 1, ruleSet: 'p' });
    expect(r.at.toISOString()).toBe('2026-10-08T15:59:59.999Z'); // first working day after 1 Oct
  });

  it('records the years counted and whether any was estimated', () => {
    const r = computeDeadline(official2026, new Date('2026-12-10T02:00:00Z'), {
      workdays: 45,
      ruleSet: 'cn-12315',
    });
    expect(r.basis).toMatchObject({
      basis: 'estimated',
      years: { 2026: 1, 2027: 0 },
      calendarVersion: 0,
    });
    expect(staleYears(r.basis, { 2026: 1 })).toEqual([]);
    expect(staleYears(r.basis, { 2026: 1, 2027: 1 })).toEqual(['2027']);
    expect(staleYears(r.basis, { 2026: 2 })).toEqual(['2026']);
  });

  it('recomputes from the same start on a calendar that has the year', () => {
    const first = computeDeadline(official2026, new Date('2026-12-10T02:00:00Z'), {
      workdays: 45,
      ruleSet: 'cn-12315',
    });
    const snap = new CalendarSnapshot(1, [
      { year: 2026, version: 1, holidays: ['2026-12-31'], workdays: [] },
      { year: 2027, version: 1, holidays: ['2027-01-01'], workdays: [] },
    ]);
    const again = recomputeDeadline(snap, first.basis);
    expect(again.basis).toMatchObject({ basis: 'official', years: { 2026: 1, 2027: 1 } });
    expect(again.at.getTime()).toBeLessThan(first.at.getTime()); // no Spring Festival in this toy year
  });
});

describe('clampRecomputed: none moves into the past', () => {
  const now = new Date('2027-02-19T02:00:00Z'); // Fri 19 Feb, 10:00 in Shanghai
  const endOfToday = '2027-02-19T15:59:59.999Z';

  it('takes a later or future date as computed', () => {
    const old = new Date('2027-02-20T15:59:59.999Z');
    expect(clampRecomputed(new Date('2027-02-25T15:59:59.999Z'), old, now).toISOString()).toBe(
      '2027-02-25T15:59:59.999Z',
    );
    expect(clampRecomputed(new Date('2027-02-22T15:59:59.999Z'), old, now).toISOString()).toBe(
      '2027-02-22T15:59:59.999Z',
    );
  });

  it('never before the end of today when the old deadline was still ahead', () => {
    const old = new Date('2027-02-24T15:59:59.999Z');
    expect(clampRecomputed(new Date('2027-02-18T15:59:59.999Z'), old, now).toISOString()).toBe(
      endOfToday,
    );
  });

  it('never earlier than an old deadline that has already passed', () => {
    const old = new Date('2027-02-17T15:59:59.999Z');
    expect(clampRecomputed(new Date('2027-02-15T15:59:59.999Z'), old, now).toISOString()).toBe(
      old.toISOString(),
    );
  });
});
