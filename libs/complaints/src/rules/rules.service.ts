import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OfficeReads } from '@app/directory';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { RuleLimits, RuleSet, effectiveRuleSets, isRuleSetId, limitsOf } from './rule-sets';

/** The rule set of a ticket as the deadline code needs it: its id and the limits it keeps. */
export interface TicketRules {
  ruleSet: string;
  limits: RuleLimits;
}

/**
 * The rule sets of this deployment (rule-sets.ts with the configuration applied), the default
 * set (RULE_SET, checked at boot) and the set each office works under.
 */
@Injectable()
export class RulesService {
  readonly sets: readonly RuleSet[];
  readonly defaultId: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) config: HejieConfig,
  ) {
    if (!isRuleSetId(config.ruleSet)) {
      // Thrown while the module is built: the process does not start with an unknown RULE_SET.
      throw new Error(
        `RULE_SET must name a known rule set (${effectiveRuleSets(config)
          .map((s) => s.id)
          .join(', ')}), got "${config.ruleSet}"`,
      );
    }
    this.sets = effectiveRuleSets(config);
    this.defaultId = config.ruleSet;
  }

  get(id: string): RuleSet {
    const set = this.sets.find((s) => s.id === id);
    if (!set) throw new Error(`unknown rule set ${id}`);
    return set;
  }

  rulesOf(id: string): TicketRules {
    return { ruleSet: id, limits: limitsOf(this.get(id)) };
  }

  /**
   * The limits a ticket keeps: its snapshot from escalation, or (tickets escalated before rule
   * sets existed) the current limits of its set, the national one by default.
   */
  ticketRules(t: { rule_set?: string | null; rule_limits?: unknown }): TicketRules {
    const id = t.rule_set && isRuleSetId(t.rule_set) ? t.rule_set : this.defaultId;
    if (t.rule_limits && typeof t.rule_limits === 'object') {
      return { ruleSet: id, limits: t.rule_limits as RuleLimits };
    }
    return this.rulesOf(id);
  }

  /** The rules of each office (an office whose set this build no longer knows: the default). */
  async forOffices(
    officeIds: readonly (string | null)[],
  ): Promise<Map<string | null, TicketRules>> {
    const ids = [...new Set(officeIds.filter((id): id is string => id !== null))];
    const ruleSets = await OfficeReads.ruleSets(this.db, ids);
    const out = new Map<string | null, TicketRules>([[null, this.rulesOf(this.defaultId)]]);
    for (const [id, ruleSet] of ruleSets) {
      out.set(id, this.rulesOf(isRuleSetId(ruleSet) ? ruleSet : this.defaultId));
    }
    for (const id of ids) if (!out.has(id)) out.set(id, this.rulesOf(this.defaultId));
    return out;
  }
}
