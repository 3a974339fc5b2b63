import { DomainError } from './domain-error';

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/**
 * For specs: the error `fn` throws, of class `type` (by default a DomainError); another error is
 * rethrown, none thrown fails.
 */
export function errorOf(fn: () => unknown): DomainError;
export function errorOf<E extends Error>(fn: () => unknown, type: ErrorClass<E>): E;
export function errorOf(fn: () => unknown, type: ErrorClass<Error> = DomainError): Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
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
