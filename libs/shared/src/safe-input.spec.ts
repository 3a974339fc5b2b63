import { codeOf as code } from './errors/domain-error.testing';
import { assertCleanValue, badTextReason, decodeUtf8Strict, parseJsonStrict } from './safe-input';

describe('safe input', () => {
  it.each([
    ['U+0000', 'a\u0000b', 'contains U+0000'],
    ['a lone high surrogate', 'a\ud800b', 'contains an unpaired surrogate'],
    ['a lone low surrogate', '\udc00', 'contains an unpaired surrogate'],
    ['a pair then a lone half', '\ud83d\ude00\ud83d', 'contains an unpaired surrogate'],
  ])('%s is not clean text', (_w, s, why) => {
    expect(badTextReason(s)).toBe(why);
  });

  it.each(['', 'plain', '龙井茶 🍵', 'tab\tnewline\n', '\u00ff'])('%j is clean text', (s) => {
    expect(badTextReason(s)).toBeNull();
  });

  it.each([
    ['__proto__ at the top', '{"__proto__":{"a":1}}'],
    ['__proto__ nested in an array', '{"a":[{"b":{"__proto__":{}}}]}'],
    ['constructor with prototype', '{"constructor":{"prototype":{"x":1}}}'],
    ['constructor alone', '{"constructor":"x"}'],
    ['prototype alone', '{"x":{"prototype":1}}'],
    ['escaped U+0000 in a value', '{"a":"x\\u0000"}'],
    ['escaped lone surrogate in a value', '{"a":["\\ud800"]}'],
    ['escaped lone surrogate in a key', '{"k\\udfff":1}'],
    ['malformed JSON', '{"a":'],
    ['a raw (unescaped) lone surrogate in a value', '{"a":"x\ud800"}'],
    ['an escaped key spelling __proto__', '{"\\u005f_proto__":{}}'],
  ])('parseJsonStrict refuses %s with VALIDATION_FAILED', (_w, text) => {
    expect(code(() => parseJsonStrict(text))).toBe('VALIDATION_FAILED');
  });

  it('parseJsonStrict returns ordinary values unchanged, emoji included', () => {
    expect(parseJsonStrict('{"a":[1,"🍵",null,{"b":true}]}')).toEqual({
      a: [1, '🍵', null, { b: true }],
    });
  });

  it('a deeply nested body does not overflow the stack', () => {
    const deep = '['.repeat(100_000) + '"\\u0000"' + ']'.repeat(100_000);
    let value: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) value = [value];
    expect(code(() => assertCleanValue(value))).toBe('VALIDATION_FAILED');
    // JSON.parse itself may refuse this depth; either way never a RangeError out of our walk.
    expect(['VALIDATION_FAILED', 'OTHER']).toContain(code(() => parseJsonStrict(deep)));
  });

  it('decodeUtf8Strict refuses bytes that are not UTF-8 instead of writing U+FFFD', () => {
    expect(decodeUtf8Strict(Buffer.from('龙井', 'utf8'))).toBe('龙井');
    expect(code(() => decodeUtf8Strict(Buffer.from([0x7b, 0xff, 0x7d])))).toBe('VALIDATION_FAILED');
    // A UTF-8-encoded lone surrogate (CESU) is not UTF-8 either.
    expect(code(() => decodeUtf8Strict(Buffer.from([0xed, 0xa0, 0x80])))).toBe('VALIDATION_FAILED');
  });
});
