import { ErrorCode, statusOf } from './error-codes';

export interface FieldError {
  field: string;
  message: string;
  line?: number;
}

/**
 * A rule of the domain said no. Libs throw this (never HTTP exceptions); the API's problem
 * filter maps `code` to a status and an RFC 9457 body.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    detail: string,
    readonly extra: Record<string, unknown> = {},
    readonly errors?: FieldError[],
  ) {
    super(detail);
    this.name = 'DomainError';
  }

  get status(): number {
    return statusOf(this.code);
  }
}
