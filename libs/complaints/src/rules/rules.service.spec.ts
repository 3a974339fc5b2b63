import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { HejieConfig } from '@app/shared';
import { codeOf, errorOf } from '@app/shared/errors/domain-error.testing';
import { RulesService } from './rules.service';
import { RuleSetFileError, loadRuleSetFolder } from './rule-set-files';
import {
  NATIONAL_12315_ID,
  PLATFORM_LIVE_COMMERCE_ID,
  PRE_RULE_SET_LIMITS,
  effectiveRuleSets,
  longestLimitWorkdays,
} from './rule-sets';
import { REPO_RULES_DIR, committedRuleSets } from './rule-sets.testing';

const config = (over: Partial<HejieConfig> = {}) =>
  ({
    regulatorAcceptWorkdays: null,
    mediationWorkdays: null,
    ruleSet: NATIONAL_12315_ID,
    ruleSetsDir: REPO_RULES_DIR,
    ...over,
  }) as HejieConfig;
/** Any query would throw: the rule sets are read and checked before the database is touched. */
const noDb = new Proxy({} as DataSource, {
  get: () => {
    throw new Error('no query expected');
  },
});

const committed = (id: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(REPO_RULES_DIR, `${id}.json`), 'utf8')) as Record<string, unknown>;

/** A scratch RULE_SETS_DIR holding `files` (name → content). */
function folder(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hejie-rules-'));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The error loading a folder with one national file changed by `change`. */
function problemWith(
  change: (f: Record<string, unknown>) => Record<string, unknown>,
  name = 'cn-12315.json',
): RuleSetFileError {
  const dir = folder({ [name]: change(committed(NATIONAL_12315_ID)) });
  dirs.push(dir);
  return errorOf(() => loadRuleSetFolder(dir), RuleSetFileError);
}

describe('rule set files (RULE_SETS_DIR, default rules/)', () => {
  it('the committed files hold the two sets with their limits, texts and version 1', () => {
    const [national, platform] = committedRuleSets();
    expect(national).toEqual({
      id: 'cn-12315',
      version: 1,
      name: '12315 national complaint-handling measures',
      source: expect.stringContaining('《市场监督管理投诉举报处理暂行办法》'),
      acceptWorkdays: 7,
      mediationWorkdays: 45,
      appealWindowWorkdays: 15,
      reviewWorkdays: 15,
      maxExtensionWorkdays: 15,
    });
    expect(platform).toEqual({
      id: 'platform-live-commerce',
      version: 1,
      name: 'Platform set after the proposed live-commerce consumer-protection rules',
      source: expect.stringContaining('accept within 24 hours'),
      acceptHours: 24,
      investigationWorkdays: 7,
      mediationWorkdays: 15,
      appealWindowWorkdays: 10,
      reviewWorkdays: 10,
      maxExtensionWorkdays: 7,
    });
  });

  it.each([
    [
      'a limit that is not a positive integer',
      (f) => ({ ...f, mediationWorkdays: 0 }),
      'mediationWorkdays',
      /must not be less than 1/,
    ],
    [
      'a limit given as a string',
      (f) => ({ ...f, reviewWorkdays: '15' }),
      'reviewWorkdays',
      /integer/,
    ],
    [
      'a fractional limit',
      (f) => ({ ...f, appealWindowWorkdays: 1.5 }),
      'appealWindowWorkdays',
      /integer/,
    ],
    [
      'a missing limit',
      ({ maxExtensionWorkdays: _m, ...f }) => f,
      'maxExtensionWorkdays',
      /integer/,
    ],
    ['version 0', (f) => ({ ...f, version: 0 }), 'version', /less than 1/],
    ['an empty name', (f) => ({ ...f, name: '  ' }), 'name', /must not be empty/],
    ['an empty source', (f) => ({ ...f, source: '' }), 'source', /must not be empty/],
    [
      'an unknown key (a misspelt limit)',
      (f) => ({ ...f, mediationWorkday: 30 }),
      'mediationWorkday',
      /should not exist/,
    ],
    [
      'both acceptWorkdays and acceptHours',
      (f) => ({ ...f, acceptHours: 24 }),
      'acceptWorkdays',
      /exactly one/,
    ],
    [
      'neither acceptWorkdays nor acceptHours',
      ({ acceptWorkdays: _a, ...f }) => f,
      'acceptWorkdays',
      /exactly one/,
    ],
    [
      'an id other than the file name',
      (f) => ({ ...f, id: 'cn-12315-2026' }),
      'id',
      /differs from the file name/,
    ],
  ] as [string, (f: Record<string, unknown>) => Record<string, unknown>, string, RegExp][])(
    'refuses %s, naming the file and the field',
    (_what, change, field, message) => {
      const e = problemWith(change);
      expect([e.file, e.field]).toEqual(['cn-12315.json', field]);
      expect(e.message).toMatch(message);
      expect(e.message).toContain(`cn-12315.json: ${field}:`);
    },
  );

  it('refuses a file that is not JSON, a file name that is no id, and an empty folder', () => {
    const bad = folder({ 'cn-12315.json': '{ "id": ' });
    const badName = folder({ 'CN 12315.json': committed(NATIONAL_12315_ID) });
    const empty = folder({ 'README.md': 'not a set' });
    dirs.push(bad, badName, empty);
    expect(() => loadRuleSetFolder(bad)).toThrow(/cn-12315\.json: \(file\): not JSON/);
    expect(() => loadRuleSetFolder(badName)).toThrow(/CN 12315\.json: id: the file name/);
    expect(() => loadRuleSetFolder(empty)).toThrow(/RULE_SETS_DIR: holds no <id>\.json/);
    expect(() => loadRuleSetFolder(join(empty, 'missing'))).toThrow(
      /RULE_SETS_DIR: cannot be read/,
    );
  });

  it('an invalid folder stops RulesService (the API and the worker) before any query', () => {
    const dir = folder({
      'cn-12315.json': { ...committed(NATIONAL_12315_ID), reviewWorkdays: -1 },
    });
    dirs.push(dir);
    expect(() => new RulesService(noDb, config({ ruleSetsDir: dir }))).toThrow(
      /rule set file cn-12315\.json: reviewWorkdays: /,
    );
  });

  it('an operator adds a set and changes a limit (version bump) in its own folder', () => {
    const dir = folder({
      'cn-12315.json': { ...committed(NATIONAL_12315_ID), version: 2, reviewWorkdays: 20 },
      'regional-fast.json': {
        id: 'regional-fast',
        version: 1,
        name: 'Regional fast track',
        source: 'a provincial pilot',
        acceptWorkdays: 3,
        mediationWorkdays: 20,
        appealWindowWorkdays: 10,
        reviewWorkdays: 10,
        maxExtensionWorkdays: 5,
      },
    });
    dirs.push(dir);
    const rules = new RulesService(noDb, config({ ruleSetsDir: dir, ruleSet: 'regional-fast' }));
    expect(rules.ids()).toEqual(['cn-12315', 'regional-fast']);
    expect(rules.get(NATIONAL_12315_ID)).toMatchObject({ version: 2, reviewWorkdays: 20 });
    expect(rules.rulesOf('regional-fast').limits).toEqual({
      acceptWorkdays: 3,
      mediationWorkdays: 20,
      appealWindowWorkdays: 10,
      reviewWorkdays: 10,
      maxExtensionWorkdays: 5,
    });
    expect(rules.defaultId).toBe('regional-fast');
    // A set that is not in the folder is unknown: an office cannot name it (400).
    expect(rules.has(PLATFORM_LIVE_COMMERCE_ID)).toBe(false);
    const refused = errorOf(() => rules.assertKnown(PLATFORM_LIVE_COMMERCE_ID));
    expect([refused.code, refused.status]).toEqual(['VALIDATION_FAILED', 400]);
    expect(refused.errors).toEqual([
      {
        field: 'ruleSet',
        message: 'ruleSet must be one of GET /v1/rules: cn-12315, regional-fast',
      },
    ]);
    expect(codeOf(() => rules.assertKnown('regional-fast'))).toBeNull();
  });
});

describe('rule sets with the configuration applied', () => {
  it('REGULATOR_ACCEPT_WORKDAYS and MEDIATION_WORKDAYS, when set, override the national limits only', () => {
    const sets = effectiveRuleSets(committedRuleSets(), {
      regulatorAcceptWorkdays: 5,
      mediationWorkdays: 30,
    });
    expect(sets.find((s) => s.id === NATIONAL_12315_ID)).toMatchObject({
      acceptWorkdays: 5,
      mediationWorkdays: 30,
      reviewWorkdays: 15,
    });
    expect(sets.find((s) => s.id === PLATFORM_LIVE_COMMERCE_ID)).toMatchObject({
      acceptHours: 24,
      mediationWorkdays: 15,
    });
    // Unset: the file's values.
    const plain = effectiveRuleSets(committedRuleSets(), {
      regulatorAcceptWorkdays: null,
      mediationWorkdays: null,
    });
    expect(plain).toEqual(committedRuleSets());
  });

  it('an override with no national set in the folder stops start-up', () => {
    const platformOnly = committedRuleSets().filter((s) => s.id === PLATFORM_LIVE_COMMERCE_ID);
    expect(() =>
      effectiveRuleSets(platformOnly, { regulatorAcceptWorkdays: 5, mediationWorkdays: null }),
    ).toThrow(/has no cn-12315\.json/);
  });

  it('the longest limit a deadline counts: the national mediation plus its largest extension', () => {
    const national = (mediationWorkdays: number) =>
      longestLimitWorkdays(
        effectiveRuleSets(committedRuleSets(), { regulatorAcceptWorkdays: 7, mediationWorkdays }),
      );
    expect(national(45)).toBe(60);
    expect(national(30)).toBe(45);
    const platform = committedRuleSets().filter((s) => s.id === PLATFORM_LIVE_COMMERCE_ID);
    expect(longestLimitWorkdays(platform)).toBe(22); // mediation plan 15 + 7
  });

  it('refuses to start with a RULE_SET that names no loaded set', () => {
    expect(() => new RulesService(noDb, config({ ruleSet: 'nope' }))).toThrow(
      /RULE_SET must name a loaded rule set \(cn-12315, platform-live-commerce\), got "nope"/,
    );
    expect(new RulesService(noDb, config({ ruleSet: PLATFORM_LIVE_COMMERCE_ID })).defaultId).toBe(
      PLATFORM_LIVE_COMMERCE_ID,
    );
  });

  it('a ticket keeps the limits it copied at escalation, whatever the configuration says now', () => {
    const rules = new RulesService(noDb, config({ mediationWorkdays: 60 }));
    const kept = rules.ticketRules({
      rule_set: NATIONAL_12315_ID,
      rule_limits: PRE_RULE_SET_LIMITS,
    });
    expect(kept.limits.mediationWorkdays).toBe(45);
    // A set whose file was removed since: the ticket keeps its id and its limits.
    const gone = rules.ticketRules({ rule_set: 'regional-fast', rule_limits: PRE_RULE_SET_LIMITS });
    expect(gone).toEqual({ ruleSet: 'regional-fast', limits: PRE_RULE_SET_LIMITS });
    // A ticket that has not been escalated yet: its set's current limits.
    expect(rules.ticketRules({ rule_set: null }).limits.mediationWorkdays).toBe(60);
  });
});
