import { parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['1ms', 1],
    ['90s', 90_000],
    ['15m', 15 * 60_000],
    ['96h', 96 * 3_600_000],
    ['7d', 7 * 86_400_000],
    ['30s', 30_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    '96',
    'h',
    '0s',
    '0ms',
    '-1d',
    '+1d',
    '1.5h',
    '1e3s',
    '015m',
    ' 96h',
    '96h ',
    '96 h',
    '96 hours',
    '96H',
    '1w',
    '1y',
    '1h30m',
    'soon',
  ])('refuses %p and names it', (text) => {
    expect(() => parseDuration(text)).toThrow(`Invalid duration ${JSON.stringify(text)}`);
  });

  it('explains the accepted format', () => {
    expect(() => parseDuration('2 days')).toThrow(/positive integer followed by ms, s, m, h or d/);
  });

  it('refuses values beyond exact integer milliseconds', () => {
    expect(() => parseDuration('999999999999999d')).toThrow(/too large/);
  });

  it('refuses a non-string (an unset variable slipping through)', () => {
    expect(() => parseDuration(undefined as unknown as string)).toThrow(
      'Invalid duration undefined',
    );
  });
});
