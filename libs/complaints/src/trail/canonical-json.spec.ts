import { canonicalJson } from './canonical-json';

describe('canonicalJson (RFC 8785 for our value domain)', () => {
  it('matches the RFC 8785 §3.2.2 example', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        '"literals":[null,true,false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units, as the RFC 8785 §3.2.3 example', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // The values in output order (JSON.parse would not do: JS lists the key "1" first).
    const values = [...canonicalJson(input).matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
    expect(values).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    expect(canonicalJson(input).startsWith('{"\\r":"Carriage Return","1":"One","\u0080":')).toBe(
      true,
    );
  });

  it('sorts nested objects, keeps array order, adds no whitespace', () => {
    expect(canonicalJson({ b: [3, { z: 1, a: 2 }], a: { y: 'x', b: null } })).toBe(
      '{"a":{"b":null,"y":"x"},"b":[3,{"a":2,"z":1}]}',
    );
  });

  it('writes Dates as ISO strings and drops undefined properties, like JSON.stringify', () => {
    const value = {
      at: new Date('2026-10-01T00:00:00Z'),
      note: undefined,
      list: [1, undefined, 'x'],
      amountMinor: 1990,
      ok: true,
      nothing: null,
    };
    expect(canonicalJson(value)).toBe(
      '{"amountMinor":1990,"at":"2026-10-01T00:00:00.000Z","list":[1,null,"x"],"nothing":null,"ok":true}',
    );
    // So what comes back from a jsonb column canonicalises to the same text.
    expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonicalJson(value));
  });

  it('keeps Chinese text as UTF-8 characters, not escapes', () => {
    expect(canonicalJson({ reason: '商品与描述不符' })).toBe('{"reason":"商品与描述不符"}');
  });

  it.each([
    ['NaN', { n: Number.NaN }, /NaN at \$\.n/],
    ['Infinity', [Infinity], /Infinity at \$\[0\]/],
    ['a bigint', { n: 1n }, /bigint at \$\.n/],
    ['a function', { f: () => 1 }, /function at \$\.f/],
    ['a Map', { m: new Map() }, /Map at \$\.m/],
    ['a lone surrogate', { s: 'a\ud800b' }, /lone UTF-16 surrogate .* \$\.s/],
    ['an invalid Date', { d: new Date('x') }, /invalid Date at \$\.d/],
    ['undefined itself', undefined, /undefined at \$/],
  ])('refuses %s, naming where', (_name, value, message) => {
    expect(() => canonicalJson(value)).toThrow(message);
  });
});
