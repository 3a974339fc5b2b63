import type { DataSource } from 'typeorm';
import type { HejieConfig } from '@app/shared';
import { RulesService } from './rules.service';
import {
  NATIONAL_12315_ID,
  PLATFORM_LIVE_COMMERCE_ID,
  RULE_SETS,
  effectiveRuleSets,
  longestLimitWorkdays,
} from './rule-sets';

const config = (over: Partial<HejieConfig> = {}) =>
  ({
    regulatorAcceptWorkdays: 7,
    mediationWorkdays: 45,
    ruleSet: NATIONAL_12315_ID,
    ...over,
  }) as HejieConfig;
const noDb = {} as DataSource;

describe('rule sets with the configuration applied', () => {
  it('REGULATOR_ACCEPT_WORKDAYS and MEDIATION_WORKDAYS set the national limits only', () => {
    const sets = effectiveRuleSets({ regulatorAcceptWorkdays: 5, mediationWorkdays: 30 });
    expect(sets.find((s) => s.id === NATIONAL_12315_ID)).toMatchObject({
      acceptWorkdays: 5,
      mediationWorkdays: 30,
    });
    expect(sets.find((s) => s.id === PLATFORM_LIVE_COMMERCE_ID)).toMatchObject({
      acceptHours: 24,
      mediationWorkdays: 15,
    });
  });

  it('the longest limit a deadline counts: the national mediation plus its largest extension', () => {
    const national = (mediationWorkdays: number) =>
      longestLimitWorkdays(effectiveRuleSets({ regulatorAcceptWorkdays: 7, mediationWorkdays }));
    expect(national(45)).toBe(60);
    expect(national(30)).toBe(45);
    const platform = RULE_SETS.filter((s) => s.id === PLATFORM_LIVE_COMMERCE_ID);
    expect(longestLimitWorkdays(platform)).toBe(22); // mediation plan 15 + 7
  });

  it('refuses to start with an unknown RULE_SET', () => {
    expect(() => new RulesService(noDb, config({ ruleSet: 'nope' }))).toThrow(/RULE_SET must name/);
    expect(new RulesService(noDb, config({ ruleSet: PLATFORM_LIVE_COMMERCE_ID })).defaultId).toBe(
      PLATFORM_LIVE_COMMERCE_ID,
    );
  });

  it('a ticket keeps the limits it copied at escalation, whatever the configuration says now', () => {
    const rules = new RulesService(noDb, config({ mediationWorkdays: 60 }));
    const kept = rules.ticketRules({
      rule_set: NATIONAL_12315_ID,
      rule_limits: {
        acceptWorkdays: 7,
        mediationWorkdays: 45,
        appealWindowWorkdays: 15,
        reviewWorkdays: 15,
        maxExtensionWorkdays: 15,
      },
    });
    expect(kept.limits.mediationWorkdays).toBe(45);
    // A ticket from before rule sets: the set's current limits.
    expect(rules.ticketRules({ rule_set: null }).limits.mediationWorkdays).toBe(60);
  });
});
