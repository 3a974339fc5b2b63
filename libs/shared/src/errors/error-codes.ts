/**
 * The stable machine codes of API.md's table. A code without a status is a compile error
 * (the switch in `statusOf` is exhaustive).
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'RECEIPT_SIGNATURE_INVALID',
  'FORBIDDEN',
  'NOT_FOUND',
  'COMPLAINT_EXISTS',
  'RECEIPT_CONFLICT',
  'INVALID_TRANSITION',
  'ESCALATION_TOO_EARLY',
  'MERCHANT_EXISTS',
  'PAYMENT_ACCOUNT_TAKEN',
  'PAYLOAD_TOO_LARGE',
  'COMPLAINT_WINDOW_EXPIRED',
  'DEMAND_EXCEEDS_PAYMENT',
  'MERCHANT_NOT_ENROLLED',
  'CREDIT_CODE_INVALID',
  'RATE_LIMITED',
  'PROVIDER_NOT_CONFIGURED',
  'UNSUPPORTED_MEDIA_TYPE',
  'REFUND_EXCEEDS_PAYMENT',
  'WEBHOOK_URL_FORBIDDEN',
  'EXTENSION_USED',
  'PROVIDER_RESERVED',
  'ATTACHMENT_LIMIT',
  'CASE_PACKET_INCOMPLETE',
  'APPEAL_WINDOW_EXPIRED',
  'INTERNAL_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

function assertUnreachable(x: never): never {
  throw new Error(`unhandled error code ${String(x)}`);
}

export function statusOf(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION_FAILED':
      return 400;
    case 'UNAUTHENTICATED':
    case 'RECEIPT_SIGNATURE_INVALID':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'COMPLAINT_EXISTS':
    case 'RECEIPT_CONFLICT':
    case 'INVALID_TRANSITION':
    case 'ESCALATION_TOO_EARLY':
    case 'MERCHANT_EXISTS':
    case 'PAYMENT_ACCOUNT_TAKEN':
    case 'EXTENSION_USED':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'COMPLAINT_WINDOW_EXPIRED':
    case 'DEMAND_EXCEEDS_PAYMENT':
    case 'MERCHANT_NOT_ENROLLED':
    case 'CREDIT_CODE_INVALID':
    case 'REFUND_EXCEEDS_PAYMENT':
    case 'WEBHOOK_URL_FORBIDDEN':
    case 'PROVIDER_RESERVED':
    case 'ATTACHMENT_LIMIT':
    case 'CASE_PACKET_INCOMPLETE':
    case 'APPEAL_WINDOW_EXPIRED':
      return 422;
    case 'RATE_LIMITED':
      return 429;
    case 'INTERNAL_ERROR':
      return 500;
    case 'PROVIDER_NOT_CONFIGURED':
      return 503;
    default:
      return assertUnreachable(code);
  }
}

const TITLES: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'Request validation failed',
  UNAUTHENTICATED: 'Authentication required',
  RECEIPT_SIGNATURE_INVALID: 'Receipt signature invalid',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not found',
  COMPLAINT_EXISTS: 'A complaint already exists for this receipt',
  RECEIPT_CONFLICT: 'A different receipt exists under this key',
  INVALID_TRANSITION: 'Action not allowed in the current state',
  ESCALATION_TOO_EARLY: 'Escalation not yet allowed',
  MERCHANT_EXISTS: 'Merchant already exists',
  PAYMENT_ACCOUNT_TAKEN: 'Payment account already belongs to a store',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  EXTENSION_USED: 'This deadline was already extended',
  COMPLAINT_WINDOW_EXPIRED: 'Complaint window expired',
  DEMAND_EXCEEDS_PAYMENT: 'Demand exceeds the amount paid',
  MERCHANT_NOT_ENROLLED: 'Merchant not enrolled',
  CREDIT_CODE_INVALID: 'Unified social credit code invalid',
  APPEAL_WINDOW_EXPIRED: 'Appeal window expired',
  RATE_LIMITED: 'Too many requests',
  PROVIDER_RESERVED: 'Provider name reserved for its verified route',
  INTERNAL_ERROR: 'Internal error',
  PROVIDER_NOT_CONFIGURED: 'Payment provider not configured',
  REFUND_EXCEEDS_PAYMENT: 'Refunds would exceed the amount paid',
  WEBHOOK_URL_FORBIDDEN: 'Webhook URL not allowed',
  ATTACHMENT_LIMIT: 'Too many attachments',
  CASE_PACKET_INCOMPLETE: 'Case packet incomplete',
};

export function titleOf(code: ErrorCode): string {
  return TITLES[code];
}
