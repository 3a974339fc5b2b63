import { DomainError, ErrorCode, FieldError, statusOf, titleOf } from '@app/shared';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
  [extra: string]: unknown;
}

export const PROBLEM_TYPE_BASE = 'https://hejie.dev/problems/';

export function problemOf(
  code: ErrorCode,
  detail: string,
  extra: Record<string, unknown> = {},
  errors?: FieldError[],
): ProblemBody {
  // Extra members (e.g. complaintId) never replace the problem's own members.
  return {
    ...extra,
    type: PROBLEM_TYPE_BASE + code.toLowerCase().replace(/_/g, '-'),
    title: titleOf(code),
    status: statusOf(code),
    detail,
    code,
    ...(errors && errors.length ? { errors } : {}),
  };
}

export function problemFromDomain(e: DomainError): ProblemBody {
  return problemOf(e.code, e.message, e.extra, e.errors);
}

/** Fastify's own errors (body parsing, limits, media types) in the contract's vocabulary. */
export function problemFromFastifyError(e: {
  code?: string;
  statusCode?: number;
  message?: string;
}): ProblemBody {
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problemOf('PAYLOAD_TOO_LARGE', 'request body exceeds the size limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? problemOf('UNSUPPORTED_MEDIA_TYPE', e.message ?? 'unsupported content type')
        : problemOf('VALIDATION_FAILED', 'content length does not match the body');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problemOf('VALIDATION_FAILED', 'body is empty but content type is application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'HEJIE_MALFORMED_BODY':
      return problemOf('VALIDATION_FAILED', e.message ?? 'malformed body');
    default:
      if (e.statusCode === 413)
        return problemOf('PAYLOAD_TOO_LARGE', 'request body exceeds the size limit');
      if (e.statusCode === 415)
        return problemOf('UNSUPPORTED_MEDIA_TYPE', e.message ?? 'unsupported content type');
      if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
        return problemOf('VALIDATION_FAILED', e.message ?? 'bad request');
      }
      return problemOf('INTERNAL_ERROR', 'internal error');
  }
}
