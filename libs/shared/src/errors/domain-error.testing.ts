import { DomainError } from './domain-error';

/** For specs: the DomainError `fn` throws; another error is rethrown, none thrown fails. */
export function errorOf(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError, nothing was thrown');
}

/** For specs: the code of the DomainError `fn` throws, null when none ('OTHER': another error). */
export function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    return e instanceof DomainError ? e.code : 'OTHER';
  }
}
