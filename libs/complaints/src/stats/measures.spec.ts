import {
  creditScore,
  deltasOf,
  medianFromHistogram,
  onTimeResponseRate,
  resolveBucket,
  RESOLVE_HOUR_BUCKETS,
  selfResolutionRate,
  StatsEvent,
  verifiedRate,
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

describe('verifiedRate', () => {
  it('is verified ÷ (self-resolved + escalated), null without decided tickets', () => {
    expect(verifiedRate(3, 8, 2)).toBe(0.3);
    expect(verifiedRate(0, 0, 0)).toBeNull();
  });
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

  it.each([
    ['merchant_no_response', 'system', 'escalated_no_response'],
    ['unresolved_in_time', 'system', 'escalated_unresolved'],
    ['consumer_request', 'consumer', 'escalated_consumer'],
    ['settlement_not_fulfilled', 'system', 'escalated_settlement'],
  ] as const)('counts an escalation for %s (by %s) as %s', (reason, by, counter) => {
    expect(deltasOf(ev('escalated', '2026-11-25T00:00:00Z', by, { reason }))[0].counter).toBe(
      counter,
    );
  });

  it('counts resolution hours', () => {
    const [resolved] = deltasOf(
      ev('settled', '2026-11-21T02:00:00.000Z', 'system', {
        from: 'settling',
        to: 'resolved',
        settledVia: 'no_objection',
      }),
    );
    expect(resolved).toMatchObject({ counter: 'self_resolved', resolveHours: 24 });
    expect(deltasOf(ev('regulator_viewed', '2026-11-21T02:00:00.000Z', 'regulator'))).toEqual([]);
  });

  it('only a carried-out offer is self-resolved; verified when a refund or the consumer said so', () => {
    const counters = (type: string, data: StatsEvent['data']) =>
      deltasOf(ev(type, '2026-11-21T02:00:00.000Z', 'consumer', data)).map((d) => d.counter);
    // Accepting leads to settling: nothing is counted yet.
    expect(counters('offer_accepted', { from: 'in_negotiation', to: 'settling' })).toEqual([]);
    // An acceptance that recorded refunds already covered is a verified self-resolution.
    expect(
      counters('offer_accepted', { from: 'in_negotiation', to: 'resolved', settledVia: 'refund' }),
    ).toEqual(['self_resolved', 'verified_self_resolved']);
    for (const via of ['refund', 'consumer']) {
      expect(counters('settled', { from: 'settling', to: 'resolved', settledVia: via })).toEqual([
        'self_resolved',
        'verified_self_resolved',
      ]);
    }
    expect(
      counters('settled', { from: 'settling', to: 'resolved', settledVia: 'no_objection' }),
    ).toEqual(['self_resolved']);
    // An offer left to expire withdraws the ticket.
    expect(counters('offer_expired', { from: 'in_negotiation', to: 'withdrawn' })).toEqual([
      'withdrawn',
    ]);
  });

  // A ticket left unanswered past its deadline (96 h after opening), however it left the
  // merchant phase.
  const unanswered = { from: 'awaiting_merchant', to: 'escalated' };
  const withdrawn = { from: 'awaiting_merchant', to: 'withdrawn' };
  it.each<[string, Parameters<typeof ev>, string[]]>([
    [
      "the worker's no-response escalation, at the deadline itself",
      [
        'escalated',
        '2026-11-24T02:00:00.000Z',
        'system',
        { ...unanswered, reason: 'merchant_no_response' },
      ],
      ['escalated_no_response', 'unanswered_late'],
    ],
    [
      'the consumer escalating herself after the 96 hours: her reason, yet the merchant was late',
      [
        'escalated',
        '2026-11-24T05:00:00.000Z',
        'consumer',
        { ...unanswered, reason: 'consumer_request' },
      ],
      ['escalated_consumer', 'unanswered_late'],
    ],
    [
      "escalated after an answer: the merchant's clock was already settled",
      [
        'escalated',
        '2026-11-25T00:00:00.000Z',
        'consumer',
        { from: 'in_negotiation', to: 'escalated', reason: 'consumer_request' },
      ],
      ['escalated_consumer'],
    ],
    [
      'withdrawn after the deadline',
      ['withdrawn', '2026-11-24T03:00:00.000Z', 'consumer', withdrawn],
      ['withdrawn', 'unanswered_late'],
    ],
    [
      'withdrawn before the deadline: no evidence either way',
      ['withdrawn', '2026-11-22T03:00:00.000Z', 'consumer', withdrawn],
      ['withdrawn'],
    ],
  ])('unanswered past the deadline: %s', (_what, event, counters) => {
    expect(deltasOf(ev(...event)).map((d) => d.counter)).toEqual(counters);
  });

  it('attributes leaving the merchant phase to the Shanghai day it happened, not the day opened', () => {
    // Opened on the 20th; escalated at 2026-11-24T16:30Z = 00:30 on the 25th in Shanghai.
    const [d] = deltasOf(
      ev('escalated', '2026-11-24T16:30:00.000Z', 'system', { reason: 'unresolved_in_time' }),
    );
    expect(d).toMatchObject({ day: '2026-11-25', counter: 'escalated_unresolved' });
  });
});

describe('measures', () => {
  it('rate = selfResolved ÷ (selfResolved + escalated), null when both are 0', () => {
    expect(selfResolutionRate(17, 3)).toBeCloseTo(0.85);
    expect(selfResolutionRate(0, 0)).toBeNull();
  });

  it('on-time rate counts tickets left unanswered past the deadline as late', () => {
    expect(
      onTimeResponseRate({ firstResponses: 3, firstResponsesOnTime: 3, unansweredLate: 1 }),
    ).toBe(0.75);
    expect(
      onTimeResponseRate({ firstResponses: 0, firstResponsesOnTime: 0, unansweredLate: 0 }),
    ).toBeNull();
  });

  it('median from the histogram interpolates inside the bucket', () => {
    expect(medianFromHistogram(new Map())).toBeNull();
    // Buckets: 0 = (0,1], 1 = (1,2], 2 = (2,4]. Four tickets in (2,4]: the median lies halfway.
    expect(medianFromHistogram(new Map([[2, 4]]))).toBe(3);
    expect(resolveBucket(0.5)).toBe(0);
    expect(resolveBucket(3)).toBe(2);
    expect(resolveBucket(10_000)).toBe(14);
  });

  it('median from the histogram: bucket edges, several buckets, the open-ended last bucket', () => {
    // Bucket bounds are inclusive above: exactly 1 h is in (0,1], just over is in (1,2].
    expect(resolveBucket(0)).toBe(0);
    expect(resolveBucket(1)).toBe(0);
    expect(resolveBucket(1.0001)).toBe(1);
    expect(resolveBucket(720)).toBe(13);
    expect(resolveBucket(720.5)).toBe(14);
    // One ticket in (0,1]: read as the bucket's middle.
    expect(medianFromHistogram(new Map([[0, 1]]))).toBe(0.5);
    // 2 in (0,1], 1 in (4,8], 1 in (24,48]: half = 2 falls at the top of (0,1].
    expect(
      medianFromHistogram(
        new Map([
          [0, 2],
          [3, 1],
          [6, 1],
        ]),
      ),
    ).toBe(1);
    // 1 in (1,2], 3 in (12,24]: half = 2 is 1/3 into (12,24] → 12 + 4 = 16.
    expect(
      medianFromHistogram(
        new Map([
          [1, 1],
          [5, 3],
        ]),
      ),
    ).toBe(16);
    // Over 720 h is read as 720–1440 h.
    expect(medianFromHistogram(new Map([[14, 2]]))).toBe(1080);
    // Empty buckets (zero counts) are ignored.
    expect(
      medianFromHistogram(
        new Map([
          [0, 0],
          [8, 1],
        ]),
      ),
    ).toBe(84);
  });

  it('the histogram median stays within one bucket of the exact median', () => {
    const hours = [0.2, 0.7, 3, 5, 5.5, 13, 30, 50, 100, 200, 400, 900];
    const counts = new Map<number, number>();
    for (const h of hours) counts.set(resolveBucket(h), (counts.get(resolveBucket(h)) ?? 0) + 1);
    const sorted = [...hours].sort((a, b) => a - b);
    const exact = (sorted[5] + sorted[6]) / 2; // 21.5
    const m = medianFromHistogram(counts)!;
    const b = resolveBucket(exact);
    const lower = b === 0 ? 0 : RESOLVE_HOUR_BUCKETS[b - 1];
    expect(m).toBeGreaterThanOrEqual(lower);
    expect(m).toBeLessThanOrEqual(RESOLVE_HOUR_BUCKETS[b]);
  });

  const c0 = () => ({
    opened: 20,
    selfResolved: 10,
    verifiedSelfResolved: 5,
    escalated: 10,
    unansweredLate: 5,
    withdrawn: 0,
    firstResponses: 15,
    firstResponsesOnTime: 10,
    mediated: 1,
    mediationFailed: 1,
  });

  it('credit: full marks without evidence, and each component explains its points', () => {
    const zeros = Object.fromEntries(Object.keys(c0()).map((k) => [k, 0]));
    const none = creditScore(zeros as ReturnType<typeof c0>);
    expect(none.score).toBe(100);
    const c = creditScore(c0());
    // on time 10/20 → 15; self-resolution 0.5 → 10; verified 5/20 → 5; 50 escalations per
    // 100 → 0; mediation 0.5 → 5.
    expect(c.components.map((x) => x.points)).toEqual([15, 10, 5, 0, 5]);
    expect(c.score).toBe(35);
    expect(c.basis).toBe(20);
    expect(c.components.map((x) => [x.name, x.value, x.weight])).toEqual([
      ['on_time_response', 0.5, 30],
      ['self_resolution', 0.5, 20],
      ['verified_self_resolution', 0.25, 20],
      ['escalations', 50, 20],
      ['mediation_outcomes', 0.5, 10],
    ]);
    // Verified settlements earn more than the same number merely resolved.
    expect(creditScore({ ...c0(), verifiedSelfResolved: 10 }).score).toBeGreaterThan(c.score);
  });

  it('credit: weights sum to 100; escalation points fall linearly to 0 at 50 per 100 tickets', () => {
    const t = {
      opened: 40,
      selfResolved: 36,
      verifiedSelfResolved: 36,
      escalated: 4,
      unansweredLate: 0,
      withdrawn: 0,
      firstResponses: 40,
      firstResponsesOnTime: 38,
      mediated: 3,
      mediationFailed: 1,
    };
    const c = creditScore(t);
    expect(c.components.reduce((s, x) => s + x.weight, 0)).toBe(100);
    // 38/40 × 30 = 28.5; 36/40 × 20 = 18 (twice: all verified); 10 per 100 → 20 × (1 − 10/50)
    // = 16; 3/4 × 10 = 7.5.
    expect(c.components.map((x) => x.points)).toEqual([28.5, 18, 18, 16, 7.5]);
    expect(c.score).toBe(88);
    // Beyond 50 escalations per 100 tickets the component stays at 0, never negative.
    const worst = creditScore({ ...t, escalated: 40, selfResolved: 0, verifiedSelfResolved: 0 });
    expect(worst.components[3]).toMatchObject({ value: 100, points: 0 });
    expect(worst.score).toBeGreaterThanOrEqual(0);
  });
});
