import { shanghaiDate } from '../lifecycle/working-days';

/**
 * Upper bounds (hours) of the hours-to-resolution histogram; the last bucket (over 720 h) is
 * open-ended and read as 720–1440 h. Precision of the median read from it: the bucket holding
 * the median is exact; inside it the value is linearly interpolated (tickets assumed spread
 * evenly), so the error is below that bucket's width: under 1 h up to 2 h, under 4 h up to 12 h,
 * under 24 h up to 120 h, and coarser beyond (a week or more to settle). Rounded to 0.1 h.
 */
export const RESOLVE_HOUR_BUCKETS = [
  1, 2, 4, 8, 12, 24, 48, 72, 96, 120, 168, 240, 336, 720,
] as const;

export function resolveBucket(hours: number): number {
  const i = RESOLVE_HOUR_BUCKETS.findIndex((upper) => hours <= upper);
  return i < 0 ? RESOLVE_HOUR_BUCKETS.length : i;
}

/** Median hours from bucket counts (index → tickets); null when there are none. */
export function medianFromHistogram(counts: Map<number, number>): number | null {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const half = total / 2;
  let seen = 0;
  for (let b = 0; b <= RESOLVE_HOUR_BUCKETS.length; b++) {
    const n = counts.get(b) ?? 0;
    if (n > 0 && seen + n >= half) {
      const lower = b === 0 ? 0 : RESOLVE_HOUR_BUCKETS[b - 1];
      const upper = b < RESOLVE_HOUR_BUCKETS.length ? RESOLVE_HOUR_BUCKETS[b] : lower * 2;
      return Math.round((lower + ((half - seen) / n) * (upper - lower)) * 10) / 10;
    }
    seen += n;
  }
  return null;
}

export const ROLLUP_COUNTERS = [
  'opened',
  'self_resolved',
  'escalated_no_response',
  'escalated_unresolved',
  'escalated_consumer',
  'withdrawn',
  'first_responses',
  'first_responses_on_time',
  'unanswered_late',
  'accepted',
  'declined',
  'mediated',
  'mediation_failed',
  // Issue 13 (migration 1764700500000): self-resolutions that money or the consumer confirmed,
  // and escalations of accepted offers that were not carried out.
  'verified_self_resolved',
  'escalated_settlement',
] as const;
export type RollupCounter = (typeof ROLLUP_COUNTERS)[number];

/** One outbox event with the ticket facts the rollups need. */
export interface StatsEvent {
  type: string;
  at: string;
  actorRole: string;
  data: { from?: string; to?: string; reason?: string; settledVia?: string };
  regionCode: string;
  merchantId: string;
  createdAt: Date;
  merchantRespondBy: Date;
}

export interface RollupDelta {
  day: string;
  regionCode: string;
  merchantId: string;
  counter: RollupCounter;
  resolveHours?: number;
}

/**
 * What one event adds to the rollups. Tickets are counted on the Shanghai day they LEFT the
 * merchant phase (resolved, escalated, withdrawn), per DESIGN.md; opened on the day created.
 */
export function deltasOf(e: StatsEvent): RollupDelta[] {
  const key = {
    day: shanghaiDate(new Date(e.at)),
    regionCode: e.regionCode,
    merchantId: e.merchantId,
  };
  const out: RollupDelta[] = [];
  const add = (counter: RollupCounter, extra: Partial<RollupDelta> = {}) =>
    out.push({ ...key, counter, ...extra });
  switch (e.type) {
    case 'created':
      add('opened');
      break;
    case 'message':
    case 'offer_made':
      // The merchant's first response is the move out of awaiting_merchant.
      if (
        e.actorRole === 'merchant' &&
        e.data.from === 'awaiting_merchant' &&
        e.data.to === 'in_negotiation'
      ) {
        add('first_responses');
        if (new Date(e.at).getTime() <= e.merchantRespondBy.getTime())
          add('first_responses_on_time');
      }
      break;
    case 'offer_accepted':
    case 'settled':
      // Only a carried-out offer is a self-resolution (settling → resolved, or an acceptance
      // that refunds already covered); accepting alone leads to settling and counts nothing.
      if (e.data.to !== 'resolved') break;
      add('self_resolved', {
        resolveHours: (new Date(e.at).getTime() - e.createdAt.getTime()) / 3_600_000,
      });
      if (e.data.settledVia === 'refund' || e.data.settledVia === 'consumer') {
        add('verified_self_resolved');
      }
      break;
    case 'offer_expired':
      // The consumer let an offer expire: the ticket is withdrawn (consumer_no_reply).
      add('withdrawn');
      break;
    case 'escalated':
      if (e.data.reason === 'merchant_no_response') add('escalated_no_response');
      else if (e.data.reason === 'unresolved_in_time') add('escalated_unresolved');
      else if (e.data.reason === 'settlement_not_fulfilled') add('escalated_settlement');
      else add('escalated_consumer');
      if (leftUnanswered(e)) add('unanswered_late');
      break;
    case 'withdrawn':
      add('withdrawn');
      if (leftUnanswered(e)) add('unanswered_late');
      break;
    case 'accepted':
      add('accepted');
      break;
    case 'declined':
      add('declined');
      break;
    case 'mediated':
      add('mediated');
      break;
    case 'mediation_failed':
      add('mediation_failed');
      break;
  }
  return out;
}

/**
 * The ticket left the merchant phase without the merchant ever answering, once its deadline had
 * been reached: the worker's no-response escalation, and also a consumer who escalated (reason
 * consumer_request) or withdrew after waiting out the 96 hours. All of them count against the
 * merchant's on-time rate; a withdrawal before the deadline does not (the clock never ran out).
 */
function leftUnanswered(e: StatsEvent): boolean {
  return (
    e.data.from === 'awaiting_merchant' && new Date(e.at).getTime() >= e.merchantRespondBy.getTime()
  );
}

export interface Totals {
  opened: number;
  selfResolved: number;
  /** Settled by a recorded refund or the consumer's confirmation. */
  verifiedSelfResolved: number;
  escalated: number;
  /** Tickets that left the merchant phase unanswered after merchantRespondBy (see deltasOf). */
  unansweredLate: number;
  withdrawn: number;
  firstResponses: number;
  firstResponsesOnTime: number;
  mediated: number;
  mediationFailed: number;
}

/** selfResolved ÷ (selfResolved + escalated); null when both are 0. */
export function selfResolutionRate(selfResolved: number, escalated: number): number | null {
  return selfResolved + escalated === 0 ? null : selfResolved / (selfResolved + escalated);
}

/** verifiedSelfResolved ÷ (selfResolved + escalated); null when both are 0 (API.md). */
export function verifiedRate(
  verifiedSelfResolved: number,
  selfResolved: number,
  escalated: number,
): number | null {
  return selfResolved + escalated === 0 ? null : verifiedSelfResolved / (selfResolved + escalated);
}

/**
 * On-time first responses ÷ tickets whose merchant clock ended: answered (on time or late), or
 * gone unanswered past merchantRespondBy (escalated by the worker or the consumer, or withdrawn).
 * A merchant that never answered is counted as late.
 */
export function onTimeResponseRate(
  t: Pick<Totals, 'firstResponses' | 'firstResponsesOnTime' | 'unansweredLate'>,
): number | null {
  const base = t.firstResponses + t.unansweredLate;
  return base === 0 ? null : t.firstResponsesOnTime / base;
}

/** The credit score's components, in the order the score lists them (the API's enum too). */
export const CREDIT_COMPONENT_NAMES = [
  'on_time_response',
  'self_resolution',
  'verified_self_resolution',
  'escalations',
  'mediation_outcomes',
] as const;

export interface CreditComponent {
  name: (typeof CREDIT_COMPONENT_NAMES)[number];
  value: number | null;
  weight: number;
  points: number;
  explanation: string;
}

/**
 * Merchant credit, 0–100, the sum of five components (weights 30/20/20/20/10):
 * - on_time_response: on-time first-response rate × 30;
 * - self_resolution: self-resolution rate × 20;
 * - verified_self_resolution: verified rate (settled by a refund seen or the consumer's word)
 *   × 20, so a merchant whose settlements are verified earns up to twice what an unverified
 *   self-resolution earns;
 * - escalations: 20 × max(0, 1 − escalations per 100 tickets ÷ 50) (50 per 100 scores 0);
 * - mediation_outcomes: share of mediations ending in agreement × 10.
 * A component without data (a rate of null) earns its full weight: no complaints is no evidence
 * against the merchant. `basis` says how many tickets the score rests on.
 */
export function creditScore(t: Totals): {
  score: number;
  basis: number;
  components: CreditComponent[];
} {
  const onTime = onTimeResponseRate(t);
  const selfRes = selfResolutionRate(t.selfResolved, t.escalated);
  const verified = verifiedRate(t.verifiedSelfResolved, t.selfResolved, t.escalated);
  const escPer100 = t.opened === 0 ? null : (t.escalated / t.opened) * 100;
  const mediationsClosed = t.mediated + t.mediationFailed;
  const mediation = mediationsClosed === 0 ? null : t.mediated / mediationsClosed;
  const round = (n: number) => Math.round(n * 10) / 10;
  const components: CreditComponent[] = [
    {
      name: 'on_time_response',
      value: onTime,
      weight: 30,
      points: round(30 * (onTime ?? 1)),
      explanation: 'first responses within the merchant deadline ÷ tickets whose deadline ended',
    },
    {
      name: 'self_resolution',
      value: selfRes,
      weight: 20,
      points: round(20 * (selfRes ?? 1)),
      explanation: 'offers carried out (resolved) ÷ (resolved + escalated)',
    },
    {
      name: 'verified_self_resolution',
      value: verified,
      weight: 20,
      points: round(20 * (verified ?? 1)),
      explanation:
        'offers carried out as a recorded refund or the consumer confirmed ÷ (resolved + escalated)',
    },
    {
      name: 'escalations',
      value: escPer100 === null ? null : round(escPer100),
      weight: 20,
      points: round(20 * Math.max(0, 1 - (escPer100 ?? 0) / 50)),
      explanation: 'escalations per 100 tickets; 0 earns 20 points, 50 or more earns 0',
    },
    {
      name: 'mediation_outcomes',
      value: mediation,
      weight: 10,
      points: round(10 * (mediation ?? 1)),
      explanation: 'regulator mediations ending in agreement ÷ mediations closed',
    },
  ];
  return {
    score: round(components.reduce((s, c) => s + c.points, 0)),
    basis: t.opened,
    components,
  };
}
