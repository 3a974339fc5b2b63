import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OfficeReads } from '@app/directory';
import { DomainError, HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { loadRuleSets } from './rule-set-files';
import { RuleLimits, RuleSet, limitsOf } from './rule-sets';

/** The rule set of a ticket as the deadline code needs it: its id and the limits it keeps. */
export interface TicketRules {
  ruleSet: string;
  limits: RuleLimits;
}

/**
 * The rule sets of this deployment: the files of RULE_SETS_DIR (rule-set-files.ts), read and
 * validated while the module is built (an invalid folder, or a RULE_SET that names no loaded set,
 * stops the process before any query), with REGULATOR_ACCEPT_WORKDAYS / MEDIATION_WORKDAYS
 * applied; the default set (RULE_SET) and the set each office works under.
 */
@Injectable()
export class RulesService {
  readonly sets: readonly RuleSet[];
  readonly defaultId: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) config: HejieConfig,
  ) {
    // Thrown while the module is built (and by the factories before it): the process does not
    // start with an invalid folder or an unknown RULE_SET.
    const loaded = loadRuleSets(config);
    this.sets = loaded.sets;
    this.defaultId = loaded.defaultId;
  }

  has(id: unknown): id is string {
    return typeof id === 'string' && this.sets.some((s) => s.id === id);
  }

  ids(): string[] {
    return this.sets.map((s) => s.id);
  }

  /** An office's `ruleSet` must name a loaded set: 400 VALIDATION_FAILED, like a body error. */
  assertKnown(id: string | undefined, field = 'ruleSet'): void {
    if (id === undefined || this.has(id)) return;
    const message = `${field} must be one of GET /v1/rules: ${this.ids().join(', ')}`;
    throw new DomainError('VALIDATION_FAILED', `${field}: ${message}`, {}, [{ field, message }]);
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
   * The limits a ticket keeps: its snapshot from escalation (every escalated ticket has one since
   * FreezeLegacyRuleLimits1765000500000), else (not escalated yet) the current limits of its set,
   * RULE_SET's by default.
   */
  ticketRules(t: { rule_set?: string | null; rule_limits?: unknown }): TicketRules {
    if (t.rule_limits && typeof t.rule_limits === 'object') {
      // Its own set, even one whose file has since been removed from RULE_SETS_DIR.
      return { ruleSet: t.rule_set ?? this.defaultId, limits: t.rule_limits as RuleLimits };
    }
    return this.rulesOf(this.has(t.rule_set) ? t.rule_set : this.defaultId);
  }

  /** The rules of each office (an office whose set is no longer loaded: the default). */
  async forOffices(
    officeIds: readonly (string | null)[],
  ): Promise<Map<string | null, TicketRules>> {
    const ids = [...new Set(officeIds.filter((id): id is string => id !== null))];
    const ruleSets = await OfficeReads.ruleSets(this.db, ids);
    const out = new Map<string | null, TicketRules>([[null, this.rulesOf(this.defaultId)]]);
    for (const [id, ruleSet] of ruleSets) {
      out.set(id, this.rulesOf(this.has(ruleSet) ? ruleSet : this.defaultId));
    }
    for (const id of ids) if (!out.has(id)) out.set(id, this.rulesOf(this.defaultId));
    return out;
  }
}
