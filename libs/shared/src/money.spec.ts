import { parseDecimalToMinor, formatMinor } from './money';

describe('parseDecimalToMinor', () => {
  it.each([
    ['0.10', 10],
    ['0.1', 10],
    ['12', 1200],
    ['12.34', 1234],
    ['0', 0],
    ['99999.99', 9999999],
  ])('%s yuan is %d fen', (input, fen) => {
    expect(parseDecimalToMinor(input)).toBe(fen);
  });

  it.each(['0.101', '-1.00', '1e3', ' 1.00', '1.', '.5', 'abc', '', '01.00', '1,00', 'NaN'])(
    'refuses %p',
    (input) => {
      expect(() => parseDecimalToMinor(input)).toThrow(/amount|decimal/);
    },
  );

  it('refuses non-strings', () => {
    expect(() => parseDecimalToMinor(12.3)).toThrow();
  });

  it('formats minor units back', () => {
    expect(formatMinor(10)).toBe('0.10');
    expect(formatMinor(123456)).toBe('1234.56');
  });
});
