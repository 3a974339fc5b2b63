import { DomainError } from './errors/domain-error';
import { MAX_AMOUNT_MINOR } from './safe-input';

const DECIMAL_YUAN = /^(0|[1-9]\d{0,12})(?:\.(\d{1,2}))?$/;

/**
 * Parses a provider's decimal amount string ("0.10", "12", "3.5") into integer minor units
 * without going through a float. More than two decimals, a sign, exponents, blanks or
 * anything not a plain decimal → VALIDATION_FAILED.
 */
export function parseDecimalToMinor(value: unknown, field = 'amount'): number {
  if (typeof value !== 'string') {
    throw new DomainError('VALIDATION_FAILED', `${field} must be a decimal string`);
  }
  const m = DECIMAL_YUAN.exec(value);
  if (!m) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `${field} "${value}" is not a non-negative amount with at most two decimals`,
    );
  }
  const whole = BigInt(m[1]);
  const frac = BigInt((m[2] ?? '').padEnd(2, '0'));
  const minor = whole * 100n + frac;
  if (minor > BigInt(MAX_AMOUNT_MINOR)) {
    throw new DomainError('VALIDATION_FAILED', `${field} is over 10^12 minor units`);
  }
  return Number(minor);
}

/** Integer minor units, e.g. 10 → "0.10". */
export function formatMinor(minor: number): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
