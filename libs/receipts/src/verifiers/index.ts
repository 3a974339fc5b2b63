// Test signers live in './test-signers' and are deliberately not re-exported here, so that
// production bundles never include them. Import '@app/receipts/verifiers/test-signers' in tests.
export type { NormalizedReceipt, Received, VerifyOutcome } from './normalized-receipt';
export { verifyAlipayNotification, ALIPAY_SUCCESS_STATUSES } from './alipay.verifier';
export {
  verifyWechatpayNotification,
  type WechatpayNotificationInput,
  type WechatpayVerifierConfig,
} from './wechatpay.verifier';
export {
  verifyHmacSignature,
  parseGenericReceipt,
  parseNdjsonBatch,
  parseNdjsonLine,
  parseNdjsonItem,
  ndjsonLines,
  type NdjsonLine,
  type NdjsonLineResult,
  type NdjsonItemResult,
} from './hmac.verifier';
export { integratorFor, assertProviderAllowed, SIGNATURE_HEADER_FORMAT } from './integrator-auth';
export { verifySignedJson, type SignedJson } from './signed-body';
