import { DomainError } from '@app/shared';
import type { WorkingDayCalendar } from '../lifecycle/working-days';
import { NATIONAL_12315_ID, PLATFORM_LIVE_COMMERCE_ID } from '../rules/rule-sets';
import { deltasOf } from '../stats/measures';
import type { StatsEvent } from '../stats/measures';
import { ticketView } from '../complaint.row';
import type { ComplaintRow } from '../complaint.row';
import { complaintRow } from '../complaint.row.testing';
import {
  appealDecisionAction,
  appealWindowClosesAt,
  assertMayAppeal,
  assertMayDecideAppeal,
  computeReviewBy,
  ticketAppealLimits,
  ticketRuleSetId,
} from './appeal-policy';

/** Monday–Friday, no holidays: easy to count by hand. */
const weekdays: WorkingDayCalendar = {
  hasOfficialData: () => true,
  isWorkingDay: (d) => {
    const day = new Date(`${d}T00:00:00Z`).getUTCDay();
    return day !== 0 && day !== 6;
  },
};

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return `${e.code} ${e.status}`;
    throw e;
  }
  return 'allowed';
};

const national = { appealWindowWorkdays: 15, reviewWorkdays: 15 }; // rules/cn-12315.json
const platform = { appealWindowWorkdays: 10, reviewWorkdays: 10 }; // rules/platform-live-commerce.json
// Monday 2026-03-02 10:00 Shanghai: + 15 working days (Mon–Fri) = Monday 2026-03-23, end of day.
const decidedAt = new Date('2026-03-02T02:00:00Z');
const closes = new Date('2026-03-23T15:59:59.999Z');

describe('appeal window (working days from the decision, the rule set’s appealWindowWorkdays)', () => {
  it('closes at the end of the n-th working day after the decision', () => {
    expect(appealWindowClosesAt(decidedAt, national, weekdays)).toEqual(closes);
    // The platform set allows 10 working days: Monday 2026-03-16.
    expect(appealWindowClosesAt(decidedAt, platform, weekdays)).toEqual(
      new Date('2026-03-16T15:59:59.999Z'),
    );
  });

  it('admits an appeal up to the last millisecond, refuses it after with 422', () => {
    const facts = { status: 'declined' as const, decidedAt, appealedAt: null };
    expect(codeOf(() => assertMayAppeal(facts, national, closes, weekdays))).toBe('allowed');
    const late = new Date(closes.getTime() + 1);
    expect(codeOf(() => assertMayAppeal(facts, national, late, weekdays))).toBe(
      'APPEAL_WINDOW_EXPIRED 422',
    );
    expect(
      codeOf(() =>
        assertMayAppeal({ ...facts, status: 'mediation_failed' }, national, late, weekdays),
      ),
    ).toBe('APPEAL_WINDOW_EXPIRED 422');
  });

  it('admits one appeal per ticket: a second one is 409, even within the window', () => {
    const facts = { status: 'declined' as const, decidedAt, appealedAt: new Date(decidedAt) };
    expect(codeOf(() => assertMayAppeal(facts, national, decidedAt, weekdays))).toBe(
      'INVALID_TRANSITION 409',
    );
  });

  it('reviewBy = appealed + reviewWorkdays working days', () => {
    expect(computeReviewBy(decidedAt, national, weekdays)).toEqual(closes);
  });
});

describe('the decider of an appeal', () => {
  it('is anyone but the officer who made the appealed decision', () => {
    expect(codeOf(() => assertMayDecideAppeal('officer-a', 'officer-a'))).toBe('FORBIDDEN 403');
    expect(codeOf(() => assertMayDecideAppeal('officer-a', 'officer-b'))).toBe('allowed');
    // The worker's time-limit termination: any officer of the office may review it.
    expect(codeOf(() => assertMayDecideAppeal('system', 'officer-a'))).toBe('allowed');
    expect(codeOf(() => assertMayDecideAppeal(null, 'officer-a'))).toBe('allowed');
  });

  it('picks the state table’s row from the outcome and the appealed decision', () => {
    expect(appealDecisionAction('upheld', 'declined')).toBe('uphold_appeal_of_decline');
    expect(appealDecisionAction('overturned', 'declined')).toBe('overturn_appeal_of_decline');
    expect(appealDecisionAction('upheld', 'mediation_failed')).toBe(
      'uphold_appeal_of_mediation_failure',
    );
    expect(appealDecisionAction('overturned', 'mediation_failed')).toBe(
      'overturn_appeal_of_mediation_failure',
    );
  });
});

describe('the ticket’s rule set', () => {
  it('is read from rule_set when the column exists', () => {
    expect(ticketRuleSetId({})).toBeNull();
    expect(ticketRuleSetId({ rule_set: PLATFORM_LIVE_COMMERCE_ID })).toBe(
      PLATFORM_LIVE_COMMERCE_ID,
    );
  });

  it('keeps the limits the ticket took at escalation (rule_limits) over the set’s current ones', () => {
    const limits = { ...national, appealWindowWorkdays: 3, reviewWorkdays: 4 };
    expect(ticketAppealLimits({ rule_set: NATIONAL_12315_ID, rule_limits: limits })).toEqual({
      appealWindowWorkdays: 3,
      reviewWorkdays: 4,
    });
    // No snapshot (never escalated; the migration froze the older ones): the limits from before
    // rule sets, never a loaded set's current ones.
    expect(ticketAppealLimits({ rule_set: PLATFORM_LIVE_COMMERCE_ID })).toMatchObject(national);
    expect(ticketAppealLimits({}).reviewWorkdays).toBe(15);
  });
});

describe('appealReviewOverdue on the view (fake clock)', () => {
  const row = complaintRow(decidedAt, {
    status: 'appealed',
    consumer_id: 'alipay:1',
    demand_type: 'refund',
    demand_amount_minor: '100',
    escalated_at: decidedAt,
    decided_by: 'officer-a',
    decided_at: decidedAt,
    appealed_at: decidedAt,
    appeal_from: 'declined',
    appeal_reason: 'new facts',
    review_by: closes,
  });
  const consumer = { role: 'consumer' as const, sub: 'alipay:1' };
  const at = (iso: string) => ticketView(row, consumer, Buffer.alloc(32), new Date(iso));

  it('is false up to reviewBy and true after it, while the appeal is open', () => {
    expect(at('2026-03-23T15:59:59.999Z').appealReviewOverdue).toBe(false);
    expect(at('2026-03-23T16:00:00.000Z').appealReviewOverdue).toBe(true);
    expect(at('2026-03-23T16:00:00.000Z').reviewBy).toBe(closes.toISOString());
    const decided = { ...row, status: 'declined', appeal_outcome: 'upheld' } as ComplaintRow;
    expect(
      ticketView(decided, consumer, Buffer.alloc(32), new Date('2026-04-30T00:00:00Z'))
        .appealReviewOverdue,
    ).toBe(false);
  });

  it('shows appealableUntil only on an unappealed decision within the window', () => {
    const declined = {
      ...row,
      status: 'declined',
      appealed_at: null,
      review_by: null,
    } as ComplaintRow;
    const v = ticketView(declined, consumer, Buffer.alloc(32), decidedAt);
    expect(v.appealableUntil).not.toBeNull();
    expect(v.appeal).toBeNull();
    expect(
      ticketView(declined, consumer, Buffer.alloc(32), new Date('2026-06-01T00:00:00Z'))
        .appealableUntil,
    ).toBeNull();
    expect(at('2026-03-03T00:00:00Z').appealableUntil).toBeNull();
    expect(at('2026-03-03T00:00:00Z').appeal).toMatchObject({ from: 'declined', outcome: null });
  });
});

describe('statistics: appeals never count as escalations', () => {
  const base: Omit<StatsEvent, 'type' | 'data'> = {
    at: '2026-03-05T02:00:00.000Z',
    actorRole: 'regulator',
    regionCode: '330106',
    merchantId: 'm',
    createdAt: new Date('2026-02-20T00:00:00Z'),
    merchantRespondBy: new Date('2026-02-24T00:00:00Z'),
  };
  it('adds nothing for appealed and appeal_decided (an overturn re-opens, it does not escalate again)', () => {
    expect(
      deltasOf({ ...base, type: 'appealed', data: { from: 'declined', to: 'appealed' } }),
    ).toEqual([]);
    expect(
      deltasOf({
        ...base,
        type: 'appeal_decided',
        data: { from: 'appealed', to: 'escalated', reason: 'consumer_request' },
      }),
    ).toEqual([]);
    // Whereas a real escalation is counted (the test above could not pass by accident).
    expect(
      deltasOf({ ...base, type: 'escalated', data: { reason: 'consumer_request' } }).length,
    ).toBeGreaterThan(0);
  });
});
