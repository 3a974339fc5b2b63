/*
 * The test signers are checked against INDEPENDENT implementations (the providers' community
 * SDKs), so that our verifiers and our signers cannot share one misunderstanding.
 */
import { createHmac } from 'node:crypto';
import { Rsa } from 'wechatpay-axios-plugin';
import { verifyAlipayNotification } from './alipay.verifier';
import { verifyHmacSignature } from './hmac.verifier';
import {
  buildWechatpayNotification,
  generateRsaKeyPair,
  signAlipayNotification,
  signHmac,
} from './test-signers';
import { alipaySdkFor, postDataOf, sdkReadWechatpay } from './provider-sdks.testing';
import {
  ALIPAY_PAYMENT,
  TEST_API_V3_KEY,
  WECHATPAY_TRANSACTION,
} from './sample-notifications.testing';

/** A payment whose values carry the characters the signed content must keep as they are. */
const ALIPAY_PARAMS = { ...ALIPAY_PAYMENT, subject: '50% off & more + 咖啡 a=b', body: '100%' };

describe('generateRsaKeyPair', () => {
  it('returns SPKI/PKCS#8 PEM, cached per label', () => {
    const a = generateRsaKeyPair();
    expect(a.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(a.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(generateRsaKeyPair()).toBe(a);
    expect(generateRsaKeyPair('other').publicKeyPem).not.toBe(a.publicKeyPem);
  });
});

describe('signAlipayNotification vs alipay-sdk (v4) checkNotifySignV2', () => {
  const { publicKeyPem, privateKeyPem } = generateRsaKeyPair();
  const sdk = alipaySdkFor(generateRsaKeyPair());

  it('a body from signAlipayNotification passes the SDK and our verifier', () => {
    const body = signAlipayNotification(ALIPAY_PARAMS, privateKeyPem);
    const postData = postDataOf(body);
    expect(postData.sign_type).toBe('RSA2');
    expect(postData.subject).toBe(ALIPAY_PARAMS.subject);
    expect(sdk.checkNotifySignV2(postData)).toBe(true);
    expect(verifyAlipayNotification(body, publicKeyPem).kind).toBe('receipt');
  });

  it('the SDK rejects the same body tampered or signed with another key', () => {
    const body = signAlipayNotification(ALIPAY_PARAMS, privateKeyPem);
    expect(sdk.checkNotifySignV2({ ...postDataOf(body), total_amount: '10.00' })).toBe(false);
    const foreign = signAlipayNotification(
      ALIPAY_PARAMS,
      generateRsaKeyPair('other').privateKeyPem,
    );
    expect(sdk.checkNotifySignV2(postDataOf(foreign))).toBe(false);
  });

  it('documents why V2 is needed: V1 checkNotifySign decodes values again and throws on %', () => {
    const body = signAlipayNotification(ALIPAY_PARAMS, privateKeyPem);
    expect(() => sdk.checkNotifySign(postDataOf(body))).toThrow(URIError);
  });

  it('documents an SDK difference: it keeps empty values in the signed content', () => {
    const body = signAlipayNotification({ ...ALIPAY_PARAMS, fund_bill_list: '' }, privateKeyPem);
    expect(sdk.checkNotifySignV2(postDataOf(body))).toBe(false);
    expect(sdk.checkNotifySignV2(postDataOf(body.replace('fund_bill_list=&', '')))).toBe(true);
    expect(verifyAlipayNotification(body, publicKeyPem).kind).toBe('receipt');
  });
});

describe('buildWechatpayNotification vs wechatpay-axios-plugin Rsa / AesGcm', () => {
  const { publicKeyPem, privateKeyPem } = generateRsaKeyPair();
  const apiV3Key = TEST_API_V3_KEY;
  const transaction = { ...WECHATPAY_TRANSACTION, attach: '50% off & more' };
  const platformKey = Rsa.from(publicKeyPem, Rsa.KEY_TYPE_PUBLIC);

  it('the signature passes Rsa.verify over Formatter.response(timestamp, nonce, body)', () => {
    const { headers, body } = buildWechatpayNotification({ transaction, apiV3Key, privateKeyPem });
    const { message, signed } = sdkReadWechatpay({ headers, body }, publicKeyPem, apiV3Key);
    expect(message).toBe(
      `${headers['Wechatpay-Timestamp']}\n${headers['Wechatpay-Nonce']}\n${body}\n`,
    );
    expect(signed).toBe(true);
    expect(Rsa.verify(`${message} `, headers['Wechatpay-Signature'], platformKey)).toBe(false);
  });

  it('the resource decrypts with AesGcm.decrypt to the transaction', () => {
    const { body, headers } = buildWechatpayNotification({ transaction, apiV3Key, privateKeyPem });
    const { resource, plain } = sdkReadWechatpay({ headers, body }, publicKeyPem, apiV3Key);
    expect(resource.algorithm).toBe('AEAD_AES_256_GCM');
    expect(plain).toEqual(transaction);
  });
});

describe('signHmac', () => {
  it('matches an HMAC-SHA256 computed independently and passes the verifier', () => {
    const body = '{"a":"50% off & more"}';
    const header = signHmac(body, 'k');
    expect(header).toBe(
      `sha256=${createHmac('sha256', 'k').update(Buffer.from(body, 'utf8')).digest('hex')}`,
    );
    expect(() => verifyHmacSignature(body, header, 'k')).not.toThrow();
  });
});
