import { DomainError } from '@app/shared';
import { acceptSpec, extensionOf } from './extensions';
import { RULE_SETS, limitsOf } from './rule-sets';

const national = { ruleSet: RULE_SETS[0].id, limits: limitsOf(RULE_SETS[0]) };
const platform = { ruleSet: RULE_SETS[1].id, limits: limitsOf(RULE_SETS[1]) };

const codeOf = (f: () => void): string | undefined => {
  try {
    f();
  } catch (e) {
    return e instanceof DomainError ? e.code : 'other';
  }
  return undefined;
};

describe('extension rules', () => {
  it('acceptBy only while escalated, mediationEndBy only while mediating', () => {
    expect(
      codeOf(() => extensionOf({ status: 'escalated' }, 'acceptBy', 3, national)),
    ).toBeUndefined();
    expect(codeOf(() => extensionOf({ status: 'mediating' }, 'acceptBy', 3, national))).toBe(
      'INVALID_TRANSITION',
    );
    expect(codeOf(() => extensionOf({ status: 'escalated' }, 'mediationEndBy', 3, national))).toBe(
      'INVALID_TRANSITION',
    );
  });

  it('once per deadline', () => {
    const t = { status: 'mediating', extensions: [{ deadline: 'acceptBy' }] };
    expect(codeOf(() => extensionOf(t, 'mediationEndBy', 3, national))).toBeUndefined();
    const used = { status: 'mediating', extensions: [{ deadline: 'mediationEndBy' }] };
    expect(codeOf(() => extensionOf(used, 'mediationEndBy', 3, national))).toBe('EXTENSION_USED');
  });

  it('a deadline started anew (transfer, overturned appeal) may be extended once more', () => {
    const t = {
      status: 'escalated',
      extensions: [{ deadline: 'acceptBy', at: '2026-11-02T02:00:00.000Z' }],
    };
    expect(codeOf(() => extensionOf(t, 'acceptBy', 3, national, '2026-11-01T00:00:00.000Z'))).toBe(
      'EXTENSION_USED',
    );
    expect(
      codeOf(() => extensionOf(t, 'acceptBy', 3, national, '2026-11-05T00:00:00.000Z')),
    ).toBeUndefined();
  });

  it('1 to the set maximum working days (15 national, 7 platform)', () => {
    expect(
      codeOf(() => extensionOf({ status: 'escalated' }, 'acceptBy', 15, national)),
    ).toBeUndefined();
    expect(codeOf(() => extensionOf({ status: 'escalated' }, 'acceptBy', 16, national))).toBe(
      'VALIDATION_FAILED',
    );
    expect(codeOf(() => extensionOf({ status: 'escalated' }, 'acceptBy', 8, platform))).toBe(
      'VALIDATION_FAILED',
    );
    expect(codeOf(() => extensionOf({ status: 'escalated' }, 'acceptBy', 0, platform))).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('acceptSpec: hours for an hour limit, working days otherwise, plus the extension', () => {
    expect(acceptSpec(platform)).toEqual({ hours: 24, workdays: 0, ruleSet: platform.ruleSet });
    expect(acceptSpec(national, 2)).toEqual({ workdays: 9, ruleSet: national.ruleSet });
  });
});
