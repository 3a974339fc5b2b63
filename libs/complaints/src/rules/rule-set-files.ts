import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import {
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidationError,
  validateSync,
} from 'class-validator';
import { effectiveRuleSets } from './rule-sets';
import type { RuleSet } from './rule-sets';

/** A rule set id: the file name without `.json` (lower case, digits, dashes). */
export const RULE_SET_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** A limit in working days: a positive integer, at most a year's worth. */
const Workdays = (): PropertyDecorator => (target, key) =>
  [IsInt(), Min(1), Max(365)].forEach((d) => d(target, key));

/**
 * One file of RULE_SETS_DIR (`rules/<id>.json`), validated with class-validator like a request
 * body: every limit a positive integer, unknown keys refused (a misspelt limit must not be
 * silently ignored while the set runs on a default).
 */
class RuleSetFile {
  @IsString()
  @Matches(RULE_SET_ID_PATTERN, { message: 'id must be lower-case letters, digits and dashes' })
  id: string;
  @IsInt()
  @Min(1)
  version: number;
  @IsString()
  @Matches(/\S/, { message: 'name must not be empty' })
  @MaxLength(200)
  name: string;
  @IsString()
  @Matches(/\S/, { message: 'source must not be empty' })
  @MaxLength(2000)
  source: string;
  @IsOptional()
  @Workdays()
  acceptWorkdays?: number;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(8760)
  acceptHours?: number;
  @IsOptional()
  @Workdays()
  investigationWorkdays?: number;
  @Workdays()
  mediationWorkdays: number;
  @Workdays()
  appealWindowWorkdays: number;
  @Workdays()
  reviewWorkdays: number;
  @Workdays()
  maxExtensionWorkdays: number;
}

/** An invalid rule set file: names the file and the field, so the log alone tells what to fix. */
export class RuleSetFileError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    problem: string,
  ) {
    super(`rule set file ${file}: ${field}: ${problem}`);
    this.name = 'RuleSetFileError';
  }
}

function firstProblem(errors: ValidationError[]): { field: string; message: string } {
  const e = errors[0];
  const message = Object.values(e.constraints ?? {})[0] ?? 'invalid';
  return { field: e.property, message };
}

/** Validates one parsed file named `<file>`; answers the rule set it holds. */
export function parseRuleSetFile(file: string, raw: unknown): RuleSet {
  const id = file.replace(/\.json$/, '');
  if (!RULE_SET_ID_PATTERN.test(id)) {
    throw new RuleSetFileError(file, 'id', 'the file name must be <id>.json, id in [a-z0-9-]');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new RuleSetFileError(file, '(file)', 'must hold one JSON object');
  }
  const set = plainToInstance(RuleSetFile, raw);
  const errors = validateSync(set, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length) {
    const { field, message } = firstProblem(errors);
    throw new RuleSetFileError(file, field, message);
  }
  if (set.id !== id) {
    throw new RuleSetFileError(file, 'id', `"${set.id}" differs from the file name (${id})`);
  }
  if ((set.acceptWorkdays === undefined) === (set.acceptHours === undefined)) {
    throw new RuleSetFileError(
      file,
      'acceptWorkdays',
      'give exactly one of acceptWorkdays and acceptHours',
    );
  }
  return { ...set };
}

/**
 * Every `<id>.json` of `dir`, validated, sorted by id. Synchronous: RulesService calls it while
 * the module is built, so an invalid folder stops the API and the worker before any query.
 */
export function loadRuleSetFolder(dir: string): RuleSet[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch (e) {
    throw new RuleSetFileError(dir, 'RULE_SETS_DIR', `cannot be read (${String(e)})`);
  }
  if (names.length === 0) {
    throw new RuleSetFileError(dir, 'RULE_SETS_DIR', 'holds no <id>.json rule set');
  }
  return names.sort().map((name) => {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    } catch (e) {
      throw new RuleSetFileError(name, '(file)', `not JSON (${String(e)})`);
    }
    return parseRuleSetFile(name, raw);
  });
}

/**
 * The rule sets of a deployment: the files of RULE_SETS_DIR with REGULATOR_ACCEPT_WORKDAYS /
 * MEDIATION_WORKDAYS applied, and RULE_SET, which must name one of them. RulesService builds on
 * it; the API and worker factories call it right after loadConfig, so a bad folder or RULE_SET
 * stops the process before it opens a connection, with the file and the field in the message.
 */
export function loadRuleSets(config: {
  ruleSetsDir: string;
  ruleSet: string;
  regulatorAcceptWorkdays: number | null;
  mediationWorkdays: number | null;
}): { sets: RuleSet[]; defaultId: string } {
  const sets = effectiveRuleSets(loadRuleSetFolder(resolve(config.ruleSetsDir)), config);
  if (!sets.some((s) => s.id === config.ruleSet)) {
    throw new Error(
      `RULE_SET must name a loaded rule set (${sets.map((s) => s.id).join(', ')}), got "${config.ruleSet}"`,
    );
  }
  return { sets, defaultId: config.ruleSet };
}
