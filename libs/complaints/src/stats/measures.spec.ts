import {
  creditScore,
  deltasOf,
  medianFromHistogram,
  onTimeResponseRate,
  resolveBucket,
  selfResolutionRate,
  StatsEvent,
} from './measures';

const base: Omit<StatsEvent, 'type' | 'at' | 'data' | 'actorRole'> = {
  regionCode: '330106',
  merchantId: 'm1',
  createdAt: new Date('2026-11-20T02:00:00Z'),
  merchantRespondBy: new Date('2026-11-24T02:00:00Z'),
};
const ev = (
  type: string,
  at: string,
  actorRole = 'system',
  data: StatsEvent['data'] = {},
): StatsEvent => ({
  ...base,
  type,
  at,
  actorRole,
  data,
});

describe('rollup deltas', () => {
  it('counts a ticket on the Shanghai day of the event', () => {
    // 2026-11-20T17:00Z is 01:00 on the 21st in Shanghai.
    expect(deltasOf(ev('created', '2026-11-20T17:00:00.000Z', 'consumer'))).toEqual([
      { day: '2026-11-21', regionCode: '330106', merchantId: 'm1', counter: 'opened' },
    ]);
  });

  it('counts the merchant’s first response, on time or late', () => {
    const first = { from: 'awaiting_merchant', to: 'in_negotiation' };
    expect(
      deltasOf(ev('message', '2026-11-23T00:00:00.000Z', 'merchant', first)).map((d) => d.counter),
    ).toEqual(['first_responses', 'first_responses_on_time']);
    expect(
      deltasOf(ev('offer_made', '2026-11-25T00:00:00.000Z', 'merchant', first)).map(
        (d) => d.counter,
      ),
    ).toEqual(['first_responses']);
    // A later message, or a consumer's message, is not a first response.
    expect(deltasOf(ev('message', '2026-11-23T00:00:00.000Z', 'merchant', {}))).toEqual([]);
    expect(deltasOf(ev('message', '2026-11-23T00:00:00.000Z', 'consumer', first))).toEqual([]);
  });

  it('counts escalations by reason and resolution hours', () => {
    expect(
      deltasOf(
        ev('escalated', '2026-11-25T00:00:00Z', 'system', { reason: 'merchant_no_response' }),
      )[0].counter,
    ).toBe('escalated_no_response');
    expect(
      deltasOf(
        ev('escalated', '2026-11-25T00:00:00Z', 'system', { reason: 'unresolved_in_time' }),
      )[0].counter,
    ).toBe('escalated_unresolved');
    expect(
      deltasOf(
        ev('escalated', '2026-11-25T00:00:00Z', 'consumer', { reason: 'consumer_request' }),
      )[0].counter,
    ).toBe('escalated_consumer');
    const [resolved] = deltasOf(ev('offer_accepted', '2026-11-21T02:00:00.000Z', 'consumer'));
    expect(resolved).toMatchObject({ counter: 'self_resolved', resolveHours: 24 });
    expect(deltasOf(ev('regulator_viewed', '2026-11-21T02:00:00.000Z', 'regulator'))).toEqual([]);
  });
});

describe('measures', () => {
  it('rate = selfResolved ÷ (selfResolved + escalated), null when both are 0', () => {
    expect(selfResolutionRate(17, 3)).toBeCloseTo(0.85);
    expect(selfResolutionRate(0, 0)).toBeNull();
  });

  it('on-time rate counts unanswered (no-response escalations) as late', () => {
    expect(
      onTimeResponseRate({ firstResponses: 3, firstResponsesOnTime: 3, escalatedNoResponse: 1 }),
    ).toBe(0.75);
  });

  it('median from the histogram interpolates inside the bucket', () => {
    expect(medianFromHistogram(new Map())).toBeNull();
    // Buckets: 0 = (0,1], 1 = (1,2], 2 = (2,4]. Four tickets in (2,4]: the median lies halfway.
    expect(medianFromHistogram(new Map([[2, 4]]))).toBe(3);
    expect(resolveBucket(0.5)).toBe(0);
    expect(resolveBucket(3)).toBe(2);
    expect(resolveBucket(10_000)).toBe(14);
  });

  it('credit: full marks without evidence, and each component explains its points', () => {
    const none = creditScore({
      opened: 0,
      selfResolved: 0,
      escalated: 0,
      escalatedNoResponse: 0,
      withdrawn: 0,
      firstResponses: 0,
      firstResponsesOnTime: 0,
      mediated: 0,
      mediationFailed: 0,
    });
    expect(none.score).toBe(100);
    const c = creditScore({
      opened: 20,
      selfResolved: 10,
      escalated: 10,
      escalatedNoResponse: 5,
      withdrawn: 0,
      firstResponses: 15,
      firstResponsesOnTime: 10,
      mediated: 1,
      mediationFailed: 1,
    });
    // on time 10/20 → 15; self-resolution 0.5 → 20; 50 escalations per 100 → 0; mediation 0.5 → 5.
    expect(c.components.map((x) => x.points)).toEqual([15, 20, 0, 5]);
    expect(c.score).toBe(40);
  });
});
