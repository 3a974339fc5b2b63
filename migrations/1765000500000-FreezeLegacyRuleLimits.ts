import { MigrationInterface, QueryRunner } from 'typeorm';

// QueryRunner (the migration) or DataSource (a test): both answer rows as `any`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Query = { query(sql: string, params?: unknown[]): Promise<any> };

/**
 * The national limits as they were when rule sets were introduced (CalendarAndRuleSets
 * 1764700400000): acceptance 7, mediation 45, appeal window 15, review 15, largest extension 15
 * working days. Written out here, not read from rules/ or the configuration: they are history.
 */
export const LEGACY_NATIONAL_LIMITS = {
  acceptWorkdays: 7,
  mediationWorkdays: 45,
  appealWindowWorkdays: 15,
  reviewWorkdays: 15,
  maxExtensionWorkdays: 15,
} as const;

/**
 * Tickets escalated before rule sets existed got `rule_set = 'cn-12315'` but no `rule_limits`,
 * so their later deadlines (mediationEndBy at acceptance, the appeal window, reviewBy, the
 * extension maximum) followed whatever the national set and REGULATOR_ACCEPT_WORKDAYS /
 * MEDIATION_WORKDAYS said at the time: a change of rules or configuration rewrote open cases.
 * Every escalation since copies its set's limits, so only those rows lack them; they are frozen
 * with the limits they were escalated under. Answers how many rows it froze.
 */
export async function freezeLegacyRuleLimits(q: Query): Promise<number> {
  const [, count]: [unknown, number] = await q.query(
    `UPDATE complaints
        SET rule_limits = $1::jsonb, rule_set = coalesce(rule_set, 'cn-12315')
      WHERE rule_limits IS NULL AND (rule_set IS NOT NULL OR escalated_at IS NOT NULL)`,
    [JSON.stringify(LEGACY_NATIONAL_LIMITS)],
  );
  return count;
}

export class FreezeLegacyRuleLimits1765000500000 implements MigrationInterface {
  name = 'FreezeLegacyRuleLimits1765000500000';

  async up(q: QueryRunner): Promise<void> {
    await freezeLegacyRuleLimits(q);
  }

  async down(): Promise<void> {
    // Nothing to undo: the frozen limits are those the tickets were escalated under, and the
    // code before this migration reads them the same way.
  }
}
