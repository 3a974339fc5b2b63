import { errorOf } from '@app/shared/errors/domain-error.testing';
import {
  assertConsumerMayEscalate,
  consumerEscalationTooEarly,
  isDueForNoResponseEscalation,
  isDueForUnresolvedEscalation,
} from './escalation-policy';

const merchantRespondBy = new Date('2026-10-04T02:00:00Z'); // 10:00 in Shanghai
const before = new Date('2026-10-04T01:59:59.999Z');

const tooEarly = (facts: Parameters<typeof assertConsumerMayEscalate>[0]) =>
  errorOf(() => assertConsumerMayEscalate(facts));

describe('assertConsumerMayEscalate', () => {
  it('refuses while awaiting_merchant, unanswered, before merchantRespondBy (409)', () => {
    const error = tooEarly({
      status: 'awaiting_merchant',
      merchantRespondBy,
      firstResponseAt: null,
      now: before,
    });
    expect(error.code).toBe('ESCALATION_TOO_EARLY');
    expect(error.status).toBe(409);
    expect(error.extra).toEqual({ availableAt: '2026-10-04T02:00:00.000Z' });
    expect(error.message).toContain('2026-10-04T02:00:00.000Z');
    expect(error.message).toContain('2026-10-04 10:00 Asia/Shanghai');
  });

  it('allows it from merchantRespondBy on', () => {
    for (const now of [merchantRespondBy, new Date('2026-10-05T00:00:00Z')]) {
      expect(() =>
        assertConsumerMayEscalate({
          status: 'awaiting_merchant',
          merchantRespondBy,
          firstResponseAt: undefined,
          now,
        }),
      ).not.toThrow();
    }
  });

  it('allows it at any time once the merchant has responded', () => {
    const firstResponseAt = new Date('2026-10-01T00:00:00Z');
    expect(() =>
      assertConsumerMayEscalate({
        status: 'in_negotiation',
        merchantRespondBy,
        firstResponseAt,
        now: before,
      }),
    ).not.toThrow();
  });

  it('leaves other statuses to the state machine', () => {
    expect(() =>
      assertConsumerMayEscalate({
        status: 'resolved',
        merchantRespondBy,
        firstResponseAt: null,
        now: before,
      }),
    ).not.toThrow();
  });
});

describe('consumerEscalationTooEarly (the predicate TicketView.actions asks)', () => {
  it('is true exactly when assertConsumerMayEscalate throws', () => {
    const statuses = ['awaiting_merchant', 'in_negotiation', 'settling', 'resolved'] as const;
    const responses = [null, undefined, new Date('2026-10-01T00:00:00Z')];
    const instants = [before, merchantRespondBy, new Date('2026-10-05T00:00:00Z')];
    let tooEarly = 0;
    for (const status of statuses)
      for (const firstResponseAt of responses)
        for (const now of instants) {
          const facts = { status, merchantRespondBy, firstResponseAt, now };
          let threw = false;
          try {
            assertConsumerMayEscalate(facts);
          } catch {
            threw = true;
          }
          expect([facts, consumerEscalationTooEarly(facts)]).toEqual([facts, threw]);
          if (threw) tooEarly++;
        }
    // awaiting_merchant, no response (null or undefined), before merchantRespondBy.
    expect(tooEarly).toBe(2);
  });
});

describe('worker escalation rules', () => {
  it('no response: awaiting_merchant with no response, from merchantRespondBy on', () => {
    const facts = {
      status: 'awaiting_merchant' as const,
      merchantRespondBy,
      firstResponseAt: null,
    };
    expect(isDueForNoResponseEscalation({ ...facts, now: before })).toBe(false);
    expect(isDueForNoResponseEscalation({ ...facts, now: merchantRespondBy })).toBe(true);
    expect(
      isDueForNoResponseEscalation({ ...facts, status: 'in_negotiation', now: merchantRespondBy }),
    ).toBe(false);
  });

  it('unresolved: in_negotiation past resolveBy with no offer waiting for the consumer', () => {
    const resolveBy = new Date('2026-10-07T02:00:00Z');
    const facts = { status: 'in_negotiation' as const, resolveBy, hasPendingOffer: false };
    expect(isDueForUnresolvedEscalation({ ...facts, now: new Date(resolveBy.getTime() - 1) })).toBe(
      false,
    );
    expect(isDueForUnresolvedEscalation({ ...facts, now: resolveBy })).toBe(true);
    expect(isDueForUnresolvedEscalation({ ...facts, hasPendingOffer: true, now: resolveBy })).toBe(
      false,
    );
    expect(isDueForUnresolvedEscalation({ ...facts, status: 'escalated', now: resolveBy })).toBe(
      false,
    );
  });
});
