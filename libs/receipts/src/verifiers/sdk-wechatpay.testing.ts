/*
 * For specs: WeChat Pay notifications made and read with the community SDK's primitives only
 * (wechatpay-axios-plugin Formatter, Rsa, AesGcm), an implementation independent of our signer
 * (test-signers.ts) and our verifier, so that they cannot share one misunderstanding.
 */
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import type { WechatpayNotificationInput } from './wechatpay.verifier';

/** A notification of `plain` (a transaction or a refund), encrypted and signed by the SDK. */
export function sdkWechatpayNotification(o: {
  plain: object;
  originalType: 'transaction' | 'refund';
  eventType: string;
  id: string;
  createTime: string;
  timestamp: number;
  privateKeyPem: string;
  apiV3Key: string;
  headers?: Record<string, string>;
}): WechatpayNotificationInput {
  const nonce = Formatter.nonce();
  const resourceNonce = Formatter.nonce(12);
  const body = JSON.stringify({
    id: o.id,
    create_time: o.createTime,
    event_type: o.eventType,
    resource_type: 'encrypt-resource',
    resource: {
      original_type: o.originalType,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: Aes.AesGcm.encrypt(
        JSON.stringify(o.plain),
        o.apiV3Key,
        resourceNonce,
        o.originalType,
      ),
      associated_data: o.originalType,
      nonce: resourceNonce,
    },
  });
  const signature = Rsa.sign(
    Formatter.response(o.timestamp, nonce, body),
    Rsa.from(o.privateKeyPem, Rsa.KEY_TYPE_PRIVATE),
  );
  return {
    headers: {
      'wechatpay-timestamp': String(o.timestamp),
      'wechatpay-nonce': nonce,
      'wechatpay-signature': signature,
      ...o.headers,
    },
    rawBody: body,
  };
}

/** What the SDK reads from a notification: its signature checked, its resource decrypted. */
export function sdkReadWechatpay(
  n: { headers: Record<string, string>; body: string },
  publicKeyPem: string,
  apiV3Key: string,
): { message: string; signed: boolean; resource: Record<string, string>; plain: unknown } {
  const message = Formatter.response(
    n.headers['Wechatpay-Timestamp'],
    n.headers['Wechatpay-Nonce'],
    n.body,
  );
  const signed = Rsa.verify(
    message,
    n.headers['Wechatpay-Signature'],
    Rsa.from(publicKeyPem, Rsa.KEY_TYPE_PUBLIC),
  );
  const { resource } = JSON.parse(n.body) as { resource: Record<string, string> };
  const plain: unknown = JSON.parse(
    Aes.AesGcm.decrypt(resource.ciphertext, apiV3Key, resource.nonce, resource.associated_data),
  );
  return { message, signed, resource, plain };
}
