import { codeOf } from '@app/shared/errors/domain-error.testing';
import { acceptSpec, extensionOf } from './extensions';
import { limitsOf } from './rule-sets';
import { committedRuleSets } from './rule-sets.testing';

// The committed sets (rules/cn-12315.json, rules/platform-live-commerce.json).
const [n, p] = committedRuleSets();
const national = { ruleSet: n.id, limits: limitsOf(n) };
const platform = { ruleSet: p.id, limits: limitsOf(p) };

const escalated = { status: 'escalated' };
const mediating = { status: 'mediating' };
const acceptByExtended = { status: 'mediating', extensions: [{ deadline: 'acceptBy' }] };
const mediationExtended = { status: 'mediating', extensions: [{ deadline: 'mediationEndBy' }] };
// acceptBy extended on 2 Nov, then started anew (transfer, overturned appeal) on `since`.
const extendedOn2Nov = {
  status: 'escalated',
  extensions: [{ deadline: 'acceptBy', at: '2026-11-02T02:00:00.000Z' }],
};

describe('extension rules', () => {
  it.each<[string, Parameters<typeof extensionOf>, string | null]>([
    // acceptBy only while escalated, mediationEndBy only while mediating
    ['acceptBy while escalated', [escalated, 'acceptBy', 3, national], null],
    ['acceptBy while mediating', [mediating, 'acceptBy', 3, national], 'INVALID_TRANSITION'],
    [
      'mediationEndBy while escalated',
      [escalated, 'mediationEndBy', 3, national],
      'INVALID_TRANSITION',
    ],
    // once per deadline
    ['the other deadline was extended', [acceptByExtended, 'mediationEndBy', 3, national], null],
    [
      'this deadline was extended',
      [mediationExtended, 'mediationEndBy', 3, national],
      'EXTENSION_USED',
    ],
    // a deadline started anew may be extended once more
    [
      'extended after the deadline started',
      [extendedOn2Nov, 'acceptBy', 3, national, '2026-11-01T00:00:00.000Z'],
      'EXTENSION_USED',
    ],
    [
      'extended before the deadline started anew',
      [extendedOn2Nov, 'acceptBy', 3, national, '2026-11-05T00:00:00.000Z'],
      null,
    ],
    // 1 to the set maximum working days (15 national, 7 platform)
    ['15 national', [escalated, 'acceptBy', 15, national], null],
    ['16 national', [escalated, 'acceptBy', 16, national], 'VALIDATION_FAILED'],
    ['8 platform', [escalated, 'acceptBy', 8, platform], 'VALIDATION_FAILED'],
    ['0 platform', [escalated, 'acceptBy', 0, platform], 'VALIDATION_FAILED'],
  ])('%s → %s', (_what, args, code) => {
    expect(codeOf(() => extensionOf(...args))).toBe(code);
  });

  it('acceptSpec: hours for an hour limit, working days otherwise, plus the extension', () => {
    expect(acceptSpec(platform)).toEqual({ hours: 24, workdays: 0, ruleSet: platform.ruleSet });
    expect(acceptSpec(national, 2)).toEqual({ workdays: 9, ruleSet: national.ruleSet });
  });
});
