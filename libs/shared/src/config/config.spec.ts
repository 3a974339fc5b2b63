import { generateKeyPairSync } from 'node:crypto';
import { loadConfig, ConfigError } from './hejie-config';

const base = {
  JWT_SECRET: 'a-secret-of-at-least-32-bytes-0123456789',
  PII_KEY: Buffer.alloc(32, 7).toString('base64'),
};

describe('loadConfig', () => {
  it('applies the defaults of API.md', () => {
    const c = loadConfig(base);
    expect(c.port).toBe(3000);
    expect(c.merchantResponseSlaMs).toBe(96 * 3600 * 1000);
    expect(c.resolutionSlaMs).toBe(7 * 24 * 3600 * 1000);
    expect(c.complaintWindowDays).toBe(30);
    // Unset: the national rule set's file (rules/cn-12315.json) gives 7 and 45.
    expect(c.regulatorAcceptWorkdays).toBeNull();
    expect(c.mediationWorkdays).toBeNull();
    expect(c.ruleSetsDir).toBe('rules');
    const set = loadConfig({ ...base, REGULATOR_ACCEPT_WORKDAYS: '5', MEDIATION_WORKDAYS: '30' });
    expect([set.regulatorAcceptWorkdays, set.mediationWorkdays]).toEqual([5, 30]);
    expect(() => loadConfig({ ...base, MEDIATION_WORKDAYS: '0' })).toThrow(/MEDIATION_WORKDAYS/);
    expect(c.sweepIntervalMs).toBe(30_000);
    expect(c.authDevLogin).toBe(false);
    expect(c.alipayPublicKey).toBeNull();
    expect(c.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/hejie');
  });

  it('reads TRAIL_SIGNING_KEY (Ed25519 PEM) and CHECKPOINT_INTERVAL (default 1h); refuses other keys', () => {
    expect(loadConfig(base).trailSigningKey).toBeNull();
    expect(loadConfig(base).checkpointIntervalMs).toBe(3600_000);
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
    const c = loadConfig({ ...base, TRAIL_SIGNING_KEY: String(ed), CHECKPOINT_INTERVAL: '5m' });
    expect(c.trailSigningKey?.asymmetricKeyType).toBe('ed25519');
    expect(c.checkpointIntervalMs).toBe(300_000);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(() => loadConfig({ ...base, TRAIL_SIGNING_KEY: String(rsa) })).toThrow(
      /TRAIL_SIGNING_KEY must be an Ed25519/,
    );
    expect(() => loadConfig({ ...base, TRAIL_SIGNING_KEY: 'garbage' })).toThrow(
      /TRAIL_SIGNING_KEY/,
    );
  });

  it('webhook and retention settings: defaults and validation', () => {
    const c = loadConfig(base);
    expect(c.webhookAllowPrivate).toBe(false);
    expect(c.webhookManualRetries).toBe(3);
    expect(c.outboxRetentionMs).toBe(7 * 24 * 3600 * 1000);
    expect(c.workerQueues).toBeNull();
    const d = loadConfig({
      ...base,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      OUTBOX_RETENTION: '1d',
      WORKER_QUEUES: 'webhooks, deadlines,webhooks',
    });
    expect(d.webhookAllowPrivate).toBe(true);
    expect(d.outboxRetentionMs).toBe(24 * 3600 * 1000);
    expect(d.workerQueues).toEqual(['webhooks', 'deadlines']);
    expect(() => loadConfig({ ...base, WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(
      /WEBHOOK_ALLOW_PRIVATE must be true or false/,
    );
    expect(() => loadConfig({ ...base, WORKER_QUEUES: 'webhooks;deadlines' })).toThrow(
      /WORKER_QUEUES must be a comma-separated list/,
    );
    expect(() => loadConfig({ ...base, OUTBOX_RETENTION: 'a week' })).toThrow(/OUTBOX_RETENTION/);
  });

  it('accepts short durations for tests and demos', () => {
    expect(loadConfig({ ...base, MERCHANT_RESPONSE_SLA: '3s' }).merchantResponseSlaMs).toBe(3000);
  });

  it('names a missing JWT_SECRET', () => {
    expect(() => loadConfig({ PII_KEY: base.PII_KEY })).toThrow(/JWT_SECRET is required/);
  });

  it('names a missing PII_KEY and a bad one', () => {
    expect(() => loadConfig({ JWT_SECRET: base.JWT_SECRET })).toThrow(/PII_KEY is required/);
    expect(() => loadConfig({ ...base, PII_KEY: 'c2hvcnQ=' })).toThrow(/PII_KEY must be 32/);
  });

  it('names an unparsable duration', () => {
    expect(() => loadConfig({ ...base, MERCHANT_RESPONSE_SLA: '96 hours' })).toThrow(
      /MERCHANT_RESPONSE_SLA must be a duration/,
    );
    expect(() => loadConfig({ ...base, SWEEP_INTERVAL: 'soon' })).toThrow(/SWEEP_INTERVAL/);
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'x', AUTH_DEV_LOGIN: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const msg = (error as Error).message;
    for (const v of ['PORT', 'AUTH_DEV_LOGIN', 'JWT_SECRET', 'PII_KEY']) expect(msg).toContain(v);
  });

  it('turns literal \\n in PEM values into newlines', () => {
    const c = loadConfig({
      ...base,
      ALIPAY_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----',
    });
    expect(c.alipayPublicKey).toContain('\nabc\n');
  });

  it('requires a 32-byte WeChat Pay APIv3 key', () => {
    expect(() => loadConfig({ ...base, WECHATPAY_APIV3_KEY: 'short' })).toThrow(
      /WECHATPAY_APIV3_KEY/,
    );
  });
});

describe('loadConfig: tokens, sessions and operations', () => {
  it('requires a JWT_SECRET of at least 32 bytes', () => {
    expect(() => loadConfig({ ...base, JWT_SECRET: 'x'.repeat(31) })).toThrow(
      /JWT_SECRET must be at least 32 bytes/,
    );
    // Bytes, not characters: 11 three-byte characters are 33 bytes.
    expect(loadConfig({ ...base, JWT_SECRET: '和'.repeat(11) }).jwtSecret).toBe('和'.repeat(11));
    expect(loadConfig({ ...base, JWT_SECRET: 'x'.repeat(32) }).jwtSecret).toHaveLength(32);
  });

  it('refuses dev login in production', () => {
    expect(() => loadConfig({ ...base, NODE_ENV: 'production', AUTH_DEV_LOGIN: 'true' })).toThrow(
      /AUTH_DEV_LOGIN=true is refused when NODE_ENV=production/,
    );
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).authDevLogin).toBe(false);
    expect(loadConfig({ ...base, AUTH_DEV_LOGIN: 'true' }).authDevLogin).toBe(true);
  });

  it('applies the defaults of API.md and SECURITY.md', () => {
    const c = loadConfig(base);
    expect(c.jwtMaxAgeMs).toBe(24 * 3600 * 1000);
    expect(c.jwtIssuer).toBeNull();
    expect(c.jwtAudience).toBeNull();
    expect(c.metricsToken).toBeNull();
    expect(c.trustProxy).toEqual([]);
    expect(c.host).toBe('0.0.0.0');
    expect(c.writeRateLimit).toBe(120);
    expect(c.writeRateLimitWindowMs).toBe(60_000);
    expect(c.streamTicketTtlMs).toBe(60_000);
    expect(c.regulatorViewWindowMs).toBe(3600_000);
  });

  it('takes TRUST_PROXY as addresses and CIDRs only', () => {
    expect(loadConfig({ ...base, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
    ]);
    expect(() => loadConfig({ ...base, TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ ...base, TRUST_PROXY: '2' })).toThrow(/TRUST_PROXY/);
  });

  it('refuses a short METRICS_TOKEN and a bad JWT_MAX_AGE', () => {
    expect(() => loadConfig({ ...base, METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(() => loadConfig({ ...base, JWT_MAX_AGE: 'forever' })).toThrow(/JWT_MAX_AGE/);
  });
});
