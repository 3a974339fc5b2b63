/**
 * The statutory and platform time limits as versioned data (DESIGN.md "rule sets"): one file per
 * set in RULE_SETS_DIR (the repository's rules/ folder by default, rule-set-files.ts), loaded and
 * validated at start-up by RulesService; no limit is a constant in code. A ticket
 * records the id of the set it was escalated under and keeps it: a change of rules or of the
 * configuration never rewrites an open case. An office names the set it works under
 * (`offices.rule_set`, default `RULE_SET`).
 *
 * The acceptance limit is given either in working days or in hours (a 24-hour limit counts
 * clock hours, holidays included).
 */
export interface RuleSet {
  /** Stable id (the file name), stored on offices and tickets, e.g. `cn-12315`. */
  readonly id: string;
  readonly name: string;
  /** The regulation or proposal the limits come from. */
  readonly source: string;
  /** Bumped by the operator with every change of the file's limits. */
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

/**
 * The national limits as they were before rule sets existed (7 / 45 / 15 / 15 / 15): frozen on
 * the tickets escalated back then (migration FreezeLegacyRuleLimits1765000500000), and what the
 * view falls back to for a row that has none (an unescalated ticket, which has no appeal window).
 * History, not configuration: no later set or setting changes it.
 */
export const PRE_RULE_SET_LIMITS: RuleLimits = Object.freeze({
  acceptWorkdays: 7,
  mediationWorkdays: 45,
  appealWindowWorkdays: 15,
  reviewWorkdays: 15,
  maxExtensionWorkdays: 15,
});

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
 * configuration), when set, override the national set's acceptance and mediation limits, so an
 * operator can follow a change of the national measures with one variable; unset, the file's
 * values apply (7 and 45 in rules/cn-12315.json). They do not touch other sets. A ticket copies
 * its set's limits at escalation: a later change of configuration never rewrites an open ticket.
 */
export function effectiveRuleSets(
  sets: readonly RuleSet[],
  config: { regulatorAcceptWorkdays: number | null; mediationWorkdays: number | null },
): RuleSet[] {
  const accept = config.regulatorAcceptWorkdays;
  const mediation = config.mediationWorkdays;
  if ((accept !== null || mediation !== null) && !sets.some((s) => s.id === NATIONAL_12315_ID)) {
    throw new Error(
      `REGULATOR_ACCEPT_WORKDAYS / MEDIATION_WORKDAYS override the national set, but RULE_SETS_DIR has no ${NATIONAL_12315_ID}.json`,
    );
  }
  return sets.map((s) => {
    if (s.id !== NATIONAL_12315_ID) return s;
    const out: RuleSet = { ...s, mediationWorkdays: mediation ?? s.mediationWorkdays };
    if (accept === null) return out;
    // An acceptance limit in working days replaces one in hours (exactly one of the two).
    const { acceptHours: _hours, ...rest } = out;
    return { ...rest, acceptWorkdays: accept };
  });
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
