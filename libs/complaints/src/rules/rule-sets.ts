/**
 * The statutory and platform time limits as versioned data (DESIGN.md "rule sets"). A ticket
 * records the id of the set it was escalated under and keeps it: a change of rules or of the
 * configuration never rewrites an open case. An office names the set it works under
 * (`offices.rule_set`, default `RULE_SET`).
 *
 * The acceptance limit is given either in working days or in hours (a 24-hour limit counts
 * clock hours, holidays included).
 */
export interface RuleSet {
  /** Stable id, stored on offices and tickets, e.g. `cn-12315-2026`. */
  readonly id: string;
  readonly name: string;
  /** The regulation or proposal the limits come from. */
  readonly source: string;
  readonly version: number;
  readonly acceptWorkdays?: number;
  readonly acceptHours?: number;
  /** Investigation limit where a set has one (platform set). */
  readonly investigationWorkdays?: number;
  readonly mediationWorkdays: number;
  /** Working days after a `declined` / `mediation_failed` decision in which the consumer may appeal. */
  readonly appealWindowWorkdays: number;
  /** Working days the office has to decide an appeal (`reviewBy`). */
  readonly reviewWorkdays: number;
  /** Largest extension of one deadline, in working days (`POST …/extend`). */
  readonly maxExtensionWorkdays: number;
}

export const NATIONAL_12315_ID = 'cn-12315';
export const PLATFORM_LIVE_COMMERCE_ID = 'platform-live-commerce';

/**
 * The sets this build knows. Appeal window, review period and extension maximum are not fixed
 * by the measures' text quoted in DESIGN.md; the values here are this project's choice
 * (documented in the README, "Deadlines and the calendar") until an operator publishes its own.
 */
export const RULE_SETS: readonly RuleSet[] = [
  {
    id: NATIONAL_12315_ID,
    name: '12315 national complaint-handling measures',
    source:
      '《市场监督管理投诉举报处理暂行办法》 (SAMR Order No. 20, in force 2020-01-01): art. 14, acceptance decision within 7 working days of receipt; art. 21, mediation ends without agreement 45 working days after acceptance. Replaced in April 2026: REGULATOR_ACCEPT_WORKDAYS / MEDIATION_WORKDAYS set these two limits.',
    version: 1,
    acceptWorkdays: 7,
    mediationWorkdays: 45,
    appealWindowWorkdays: 15,
    reviewWorkdays: 15,
    maxExtensionWorkdays: 15,
  },
  {
    id: PLATFORM_LIVE_COMMERCE_ID,
    name: 'Platform set after the proposed live-commerce consumer-protection rules',
    source:
      'proposed live-commerce rules: accept within 24 hours, investigate in 7 working days, mediation plan within 15 working days',
    version: 1,
    acceptHours: 24,
    investigationWorkdays: 7,
    mediationWorkdays: 15,
    appealWindowWorkdays: 10,
    reviewWorkdays: 10,
    maxExtensionWorkdays: 7,
  },
];

/** The set with this id; the national set for an unknown or missing id (tickets escalated before rule sets existed). */
export function ruleSetById(id: string | null | undefined): RuleSet {
  return RULE_SETS.find((s) => s.id === id) ?? RULE_SETS[0];
}

/** The limits a ticket keeps from the set it was escalated under (`complaints.rule_limits`). */
export type RuleLimits = Pick<
  RuleSet,
  | 'acceptWorkdays'
  | 'acceptHours'
  | 'mediationWorkdays'
  | 'appealWindowWorkdays'
  | 'reviewWorkdays'
  | 'maxExtensionWorkdays'
>;

export function limitsOf(set: RuleSet): RuleLimits {
  return {
    ...(set.acceptHours !== undefined ? { acceptHours: set.acceptHours } : {}),
    ...(set.acceptWorkdays !== undefined ? { acceptWorkdays: set.acceptWorkdays } : {}),
    mediationWorkdays: set.mediationWorkdays,
    appealWindowWorkdays: set.appealWindowWorkdays,
    reviewWorkdays: set.reviewWorkdays,
    maxExtensionWorkdays: set.maxExtensionWorkdays,
  };
}

/**
 * The sets as this deployment runs them: REGULATOR_ACCEPT_WORKDAYS and MEDIATION_WORKDAYS (API.md
 * configuration, defaults 7 and 45) are the national set's acceptance and mediation limits, so an
 * operator can follow a change of the national measures without a release. They do not touch the
 * platform set. A ticket copies its set's limits at escalation: a later change of configuration
 * never rewrites an open ticket.
 */
export function effectiveRuleSets(config: {
  regulatorAcceptWorkdays: number;
  mediationWorkdays: number;
}): RuleSet[] {
  return RULE_SETS.map((s) =>
    s.id === NATIONAL_12315_ID
      ? {
          ...s,
          acceptWorkdays: config.regulatorAcceptWorkdays,
          mediationWorkdays: config.mediationWorkdays,
        }
      : s,
  );
}

/**
 * The most working days a regulator deadline of these sets counts from its start: acceptance or
 * mediation plus the largest extension, the appeal window, the review period. A deadline counted
 * from day D reaches at most this far past D (CalendarService's 60-day warning).
 */
export function longestLimitWorkdays(sets: readonly RuleSet[]): number {
  return Math.max(
    ...sets.map((s) =>
      Math.max(
        (s.acceptWorkdays ?? 0) + s.maxExtensionWorkdays,
        s.mediationWorkdays + s.maxExtensionWorkdays,
        s.appealWindowWorkdays,
        s.reviewWorkdays,
      ),
    ),
  );
}

export const isRuleSetId = (id: unknown): boolean =>
  typeof id === 'string' && RULE_SETS.some((s) => s.id === id);
