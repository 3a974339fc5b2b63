import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { parseDuration } from '../duration';

/**
 * Every environment variable of API.md's configuration table (plus a few operational extras),
 * validated once at boot. A bad value stops start-up with a message naming the variable.
 */
export interface HejieConfig {
  port: number;
  databaseUrl: string;
  redisUrl: string;
  /** Prefix of every BullMQ key, so test runs and tenants on one Redis never collide. */
  queuePrefix: string;
  jwtSecret: string;
  alipayPublicKey: string | null;
  wechatpayPlatformPublicKey: string | null;
  wechatpayApiV3Key: string | null;
  receiptHmacSecret: string | null;
  merchantResponseSlaMs: number;
  resolutionSlaMs: number;
  complaintWindowDays: number;
  regulatorAcceptWorkdays: number;
  mediationWorkdays: number;
  sweepIntervalMs: number;
  piiKey: Buffer;
  authDevLogin: boolean;
  /** Largest accepted body for ordinary requests (1 MB by contract). */
  bodyLimitBytes: number;
  /** Largest accepted NDJSON body on POST /v1/receipts/batch. */
  batchBodyLimitBytes: number;
  /** Rate limit for complaint creation and messages: requests per window per caller. */
  rateLimit: number;
  rateLimitWindowMs: number;
  logLevel: string;
  /** Merchant webhooks: tries before a delivery is dead-lettered, first retry delay (doubling), request timeout. */
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
  webhookTimeoutMs: number;
  /** Serial complainants: at least this many tickets against at least this many merchants within the window. */
  serialComplainantMinTickets: number;
  serialComplainantMinMerchants: number;
  serialComplainantWindowMs: number;
  /** Repeat offenders: merchants with at least this many escalations within the window. */
  repeatOffenderMinEscalations: number;
  repeatOffenderWindowMs: number;
  /** TRAIL_SIGNING_KEY: Ed25519 private key (PEM) signing trail checkpoints; null = no checkpoints. */
  trailSigningKey: KeyObject | null;
  /** CHECKPOINT_INTERVAL (default 1h). */
  checkpointIntervalMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** PEM values often arrive through env files with literal "\n"; accept both forms. */
function pem(value: string | undefined): string | null {
  if (value === undefined || value.trim() === '') return null;
  return value.replace(/\\n/g, '\n');
}

export function loadConfig(env: Env = process.env): HejieConfig {
  const problems: string[] = [];

  const str = (name: string, def?: string): string => {
    const v = env[name];
    if (v === undefined || v === '') {
      if (def === undefined) {
        problems.push(`${name} is required`);
        return '';
      }
      return def;
    }
    return v;
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
      return def;
    }
    return Number(raw);
  };
  const duration = (name: string, def: string): number => {
    const raw = env[name] ?? def;
    try {
      return parseDuration(raw);
    } catch {
      problems.push(`${name} must be a duration like 90s, 15m, 96h or 7d, got "${raw}"`);
      return 0;
    }
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return def;
  };
  const url = (name: string, def: string, protocols: string[]): string => {
    const raw = str(name, def);
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) throw new Error();
    } catch {
      problems.push(`${name} must be a ${protocols.join(' or ')} URL, got "${raw}"`);
    }
    return raw;
  };

  const jwtSecret = str('JWT_SECRET');
  if (jwtSecret && jwtSecret.length < 16)
    problems.push('JWT_SECRET must be at least 16 characters');

  let piiKey = Buffer.alloc(0);
  const piiRaw = str('PII_KEY');
  if (piiRaw) {
    piiKey = Buffer.from(piiRaw, 'base64');
    if (piiKey.length !== 32 || !/^[A-Za-z0-9+/]+={0,2}$/.test(piiRaw)) {
      problems.push('PII_KEY must be 32 random bytes, base64-encoded (openssl rand -base64 32)');
    }
  }

  const apiV3 = env.WECHATPAY_APIV3_KEY || null;
  if (apiV3 !== null && Buffer.byteLength(apiV3) !== 32) {
    problems.push(
      'WECHATPAY_APIV3_KEY must be exactly 32 bytes (the APIv3 key set in the merchant platform)',
    );
  }

  let trailSigningKey: KeyObject | null = null;
  const trailPem = pem(env.TRAIL_SIGNING_KEY);
  if (trailPem) {
    try {
      trailSigningKey = createPrivateKey(trailPem);
      if (trailSigningKey.asymmetricKeyType !== 'ed25519') throw new Error('not Ed25519');
    } catch {
      trailSigningKey = null;
      problems.push(
        'TRAIL_SIGNING_KEY must be an Ed25519 private key in PEM (openssl genpkey -algorithm ed25519)',
      );
    }
  }

  const config: HejieConfig = {
    port: int('PORT', 3000, 0, 65535),
    databaseUrl: url('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/hejie', [
      'postgres:',
      'postgresql:',
    ]),
    redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    queuePrefix: str('QUEUE_PREFIX', 'hejie'),
    jwtSecret,
    alipayPublicKey: pem(env.ALIPAY_PUBLIC_KEY),
    wechatpayPlatformPublicKey: pem(env.WECHATPAY_PLATFORM_PUBLIC_KEY),
    wechatpayApiV3Key: apiV3,
    receiptHmacSecret: env.RECEIPT_HMAC_SECRET || null,
    merchantResponseSlaMs: duration('MERCHANT_RESPONSE_SLA', '96h'),
    resolutionSlaMs: duration('RESOLUTION_SLA', '7d'),
    complaintWindowDays: int('COMPLAINT_WINDOW_DAYS', 30, 1, 3650),
    regulatorAcceptWorkdays: int('REGULATOR_ACCEPT_WORKDAYS', 7, 1, 365),
    mediationWorkdays: int('MEDIATION_WORKDAYS', 45, 1, 365),
    sweepIntervalMs: duration('SWEEP_INTERVAL', '30s'),
    piiKey,
    authDevLogin: bool('AUTH_DEV_LOGIN', false),
    bodyLimitBytes: int('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    batchBodyLimitBytes: int('BATCH_BODY_LIMIT_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    rateLimit: int('RATE_LIMIT', 30, 1, 1_000_000),
    rateLimitWindowMs: duration('RATE_LIMIT_WINDOW', '1m'),
    logLevel: str('LOG_LEVEL', 'info'),
    webhookMaxAttempts: int('WEBHOOK_MAX_ATTEMPTS', 8, 1, 100),
    webhookBackoffMs: duration('WEBHOOK_BACKOFF', '10s'),
    webhookTimeoutMs: duration('WEBHOOK_TIMEOUT', '5s'),
    serialComplainantMinTickets: int('SERIAL_COMPLAINANT_MIN_TICKETS', 5, 2, 10_000),
    serialComplainantMinMerchants: int('SERIAL_COMPLAINANT_MIN_MERCHANTS', 3, 1, 10_000),
    serialComplainantWindowMs: duration('SERIAL_COMPLAINANT_WINDOW', '30d'),
    repeatOffenderMinEscalations: int('REPEAT_OFFENDER_MIN_ESCALATIONS', 10, 1, 1_000_000),
    repeatOffenderWindowMs: duration('REPEAT_OFFENDER_WINDOW', '90d'),
    trailSigningKey,
    checkpointIntervalMs: duration('CHECKPOINT_INTERVAL', '1h'),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
