/*
 * For specs: notifications checked, made and read with the providers' community SDKs (alipay-sdk;
 * wechatpay-axios-plugin Formatter, Rsa, AesGcm), implementations independent of our signers
 * (test-signers.ts) and our verifiers, so that they cannot share one misunderstanding.
 */
import { Socket } from 'node:net';
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import type { RsaKeyPair } from './test-signers';
import type { WechatpayNotificationInput } from './wechatpay.verifier';

/*
 * alipay-sdk loads urllib, whose module body wraps `net.Socket.prototype.destroy` for the whole
 * process: it defines a non-configurable `Symbol(socket of error)` on the error passed in. undici
 * destroys all of an agent's sockets with one error object, so the second socket throws "Cannot
 * redefine property" — in any later suite of the same Jest worker (webhooks.e2e's afterAll hung
 * on it in a random-order run). The SDK's checks do no I/O: the original `destroy` is put back.
 */
const socketDestroy = Socket.prototype.destroy;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AlipaySdk } = require('alipay-sdk') as typeof import('alipay-sdk');
Socket.prototype.destroy = socketDestroy;

/**
 * alipay-sdk (v4) holding the platform key of `pair`. keyType 'PKCS8' is needed for a "BEGIN
 * PRIVATE KEY" PEM (the SDK defaults to PKCS1 and re-wraps the key text); the private key is
 * not used for notification checks anyway.
 */
export function alipaySdkFor(pair: RsaKeyPair): InstanceType<typeof AlipaySdk> {
  return new AlipaySdk({
    appId: '2021000000000000',
    privateKey: pair.privateKeyPem,
    keyType: 'PKCS8',
    alipayPublicKey: pair.publicKeyPem,
  });
}

/** The SDK wants the already-decoded params object that a web framework would produce. */
export const postDataOf = (body: string): Record<string, string> =>
  Object.fromEntries(new URLSearchParams(body));

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
