/*
 * Test-only producers of provider notifications, signed the way the providers sign them.
 * Used by the unit tests here and by the API's end-to-end tests. Never used in production code.
 */
import {
  createCipheriv,
  createHmac,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign as cryptoSign,
} from 'node:crypto';

export interface RsaKeyPair {
  /** SPKI PEM ('-----BEGIN PUBLIC KEY-----'). */
  publicKeyPem: string;
  /** PKCS#8 PEM ('-----BEGIN PRIVATE KEY-----'). */
  privateKeyPem: string;
}

const keyPairs = new Map<string, RsaKeyPair>();

/**
 * A 2048-bit RSA key pair, generated once per process per `label` (default 'default') because
 * generation costs ~100 ms. Use another label when a test needs a second, different pair
 * (e.g. to sign with the "wrong" key).
 */
export function generateRsaKeyPair(label = 'default'): RsaKeyPair {
  let pair = keyPairs.get(label);
  if (!pair) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    pair = { publicKeyPem: publicKey, privateKeyPem: privateKey };
    keyPairs.set(label, pair);
  }
  return pair;
}

function rsaSha256Base64(message: string, privateKeyPem: string): string {
  return cryptoSign('sha256', Buffer.from(message, 'utf8'), privateKeyPem).toString('base64');
}

/**
 * An Alipay asynchronous notification body (application/x-www-form-urlencoded) with `sign`
 * and `sign_type` (RSA2 unless `params.sign_type` says otherwise). Signed content: all params
 * but sign/sign_type, empty values dropped, keys sorted, `k=v` joined by `&`, raw values.
 */
export function signAlipayNotification(
  params: Record<string, string>,
  privateKeyPem: string,
): string {
  const all: Record<string, string> = { sign_type: 'RSA2', ...params };
  delete all.sign;
  const content = Object.keys(all)
    .filter((k) => k !== 'sign_type' && all[k] !== '')
    .sort()
    .map((k) => `${k}=${all[k]}`)
    .join('&');
  all.sign = rsaSha256Base64(content, privateKeyPem);
  return new URLSearchParams(all).toString();
}

export interface WechatpayNotificationOptions {
  /** The decrypted transaction object (mchid, transaction_id, trade_state, amount, payer, …). */
  transaction: object;
  apiV3Key: string;
  /** Platform private key that signs the notification (PEM). */
  privateKeyPem: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Header nonce; default random. */
  nonce?: string;
  /** Wechatpay-Serial; default a fixed fake serial. */
  serial?: string;
  /** Default 'TRANSACTION.SUCCESS' ('REFUND.SUCCESS' etc. for refund notifications). */
  eventType?: string;
}

/** WeChat Pay's resource type for an event: 'refund' for REFUND.*, else 'transaction'. */
function resourceTypeOf(eventType: string | undefined): string {
  return eventType?.startsWith('REFUND.') ? 'refund' : 'transaction';
}

export const TEST_WECHATPAY_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';

function randomAlnum(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i] % alphabet.length];
  return out;
}

function rfc3339Shanghai(date: Date): string {
  const local = new Date(date.getTime() + 8 * 3600_000).toISOString().slice(0, 19);
  return `${local}+08:00`;
}

/**
 * A WeChat Pay v3 payment notification: JSON body with the transaction encrypted as
 * AEAD_AES_256_GCM under the APIv3 key, and Wechatpay-* headers signed with `privateKeyPem`.
 * The headers also carry Content-Type: application/json.
 */
export function buildWechatpayNotification(opts: WechatpayNotificationOptions): {
  headers: Record<string, string>;
  body: string;
} {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const nonce = opts.nonce ?? randomAlnum(32);
  const serial = opts.serial ?? TEST_WECHATPAY_SERIAL;

  const resourceNonce = randomAlnum(12);
  const associatedData = resourceTypeOf(opts.eventType);
  const cipher = createCipheriv(
    'aes-256-gcm',
    Buffer.from(opts.apiV3Key, 'utf8'),
    Buffer.from(resourceNonce, 'utf8'),
  );
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([
    cipher.update(JSON.stringify(opts.transaction), 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]).toString('base64');

  const body = JSON.stringify({
    id: randomUUID(),
    create_time: rfc3339Shanghai(new Date(timestamp * 1000)),
    resource_type: 'encrypt-resource',
    event_type: opts.eventType ?? 'TRANSACTION.SUCCESS',
    summary: resourceTypeOf(opts.eventType) === 'refund' ? '退款成功' : '支付成功',
    resource: {
      original_type: resourceTypeOf(opts.eventType),
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext,
      associated_data: associatedData,
      nonce: resourceNonce,
    },
  });
  const signature = rsaSha256Base64(`${timestamp}\n${nonce}\n${body}\n`, opts.privateKeyPem);
  return {
    headers: {
      'Content-Type': 'application/json',
      'Wechatpay-Timestamp': String(timestamp),
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Signature': signature,
      'Wechatpay-Serial': serial,
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    },
    body,
  };
}

/** The X-Hejie-Signature header value for a body: `sha256=<hex HMAC-SHA256>`. */
export function signHmac(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
