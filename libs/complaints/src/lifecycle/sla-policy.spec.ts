import { DomainError } from '@app/shared';
import {
  assertWithinComplaintWindow,
  computeAcceptBy,
  computeMediationEndBy,
  computeMerchantDeadlines,
} from './sla-policy';
import { type WorkingDayCalendar, chineseDaysCalendar } from './working-days';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('computeMerchantDeadlines', () => {
  it('adds 96 hours and 7 days (the defaults) as elapsed time, weekends included', () => {
    const createdAt = new Date('2026-09-30T02:00:00Z'); // Wed, National Day ahead
    const { merchantRespondBy, resolveBy } = computeMerchantDeadlines(createdAt, {
      merchantResponseSlaMs: 96 * HOUR,
      resolutionSlaMs: 7 * DAY,
    });
    expect(merchantRespondBy.toISOString()).toBe('2026-10-04T02:00:00.000Z');
    expect(resolveBy.toISOString()).toBe('2026-10-07T02:00:00.000Z');
  });

  it('takes short demo durations', () => {
    const createdAt = new Date('2026-01-01T00:00:00Z');
    const d = computeMerchantDeadlines(createdAt, {
      merchantResponseSlaMs: 3000,
      resolutionSlaMs: 9000,
    });
    expect(d.merchantRespondBy.getTime() - createdAt.getTime()).toBe(3000);
    expect(d.resolveBy.getTime() - createdAt.getTime()).toBe(9000);
  });

  it('refuses a non-positive SLA', () => {
    expect(() =>
      computeMerchantDeadlines(new Date(), { merchantResponseSlaMs: 0, resolutionSlaMs: DAY }),
    ).toThrow(/merchantResponseSlaMs/);
  });
});

describe('computeAcceptBy / computeMediationEndBy', () => {
  it('acceptBy: escalated 30 Sep 2026 + 7 working days = end of Thu 15 Oct, Shanghai', () => {
    const escalatedAt = new Date('2026-09-30T02:00:00Z');
    expect(computeAcceptBy(escalatedAt, 7).toISOString()).toBe('2026-10-15T15:59:59.999Z');
  });

  it('mediationEndBy: accepted 18 Sep 2026 + 45 working days = end of Thu 26 Nov', () => {
    const acceptedAt = new Date('2026-09-18T08:00:00Z');
    expect(computeMediationEndBy(acceptedAt, 45, chineseDaysCalendar()).toISOString()).toBe(
      '2026-11-26T15:59:59.999Z',
    );
  });

  it('takes the limit from configuration (the 2026 measures may change it)', () => {
    const escalatedAt = new Date('2026-09-30T02:00:00Z');
    expect(computeAcceptBy(escalatedAt, 3).toISOString()).toBe('2026-10-10T15:59:59.999Z');
  });

  it('uses the injected calendar and passes the fallback report on', () => {
    const weekdaysOnly: WorkingDayCalendar = {
      isWorkingDay: (d) => ![0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay()),
      hasOfficialData: (year) => year < 2027,
    };
    const onFallback = jest.fn();
    const end = computeMediationEndBy(
      new Date('2026-12-30T02:00:00Z'),
      2,
      weekdaysOnly,
      onFallback,
    );
    // Thu 31 Dec (1); Fri 1 Jan 2027 by the fallback is a holiday; Mon 4 Jan (2).
    expect(end.toISOString()).toBe('2027-01-04T15:59:59.999Z');
    expect(onFallback).toHaveBeenCalledWith(2027);
  });

  it('refuses a limit that is not a positive whole number of working days', () => {
    expect(() => computeAcceptBy(new Date(), 0)).toThrow(/REGULATOR_ACCEPT_WORKDAYS/);
    expect(() => computeMediationEndBy(new Date(), 2.5)).toThrow(/MEDIATION_WORKDAYS/);
  });
});

describe('assertWithinComplaintWindow', () => {
  const paidAt = new Date('2026-03-01T04:00:00Z');

  it('accepts up to and including the last millisecond of the window', () => {
    expect(() => assertWithinComplaintWindow(paidAt, paidAt, 30)).not.toThrow();
    expect(() =>
      assertWithinComplaintWindow(paidAt, new Date('2026-03-31T04:00:00Z'), 30),
    ).not.toThrow();
  });

  it('accepts a payment time slightly ahead of our clock', () => {
    expect(() =>
      assertWithinComplaintWindow(paidAt, new Date(paidAt.getTime() - 5000), 30),
    ).not.toThrow();
  });

  it('refuses after the window with COMPLAINT_WINDOW_EXPIRED (422)', () => {
    let error: unknown;
    try {
      assertWithinComplaintWindow(paidAt, new Date('2026-03-31T04:00:00.001Z'), 30);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    const domainError = error as DomainError;
    expect(domainError.code).toBe('COMPLAINT_WINDOW_EXPIRED');
    expect(domainError.status).toBe(422);
    expect(domainError.message).toContain('30 days');
    expect(domainError.message).toContain('2026-03-31T04:00:00.000Z');
    expect(domainError.extra).toEqual({
      paidAt: '2026-03-01T04:00:00.000Z',
      closesAt: '2026-03-31T04:00:00.000Z',
      windowDays: 30,
    });
  });

  it('refuses a nonsensical window', () => {
    expect(() => assertWithinComplaintWindow(paidAt, paidAt, 0)).toThrow(/COMPLAINT_WINDOW_DAYS/);
  });
});
