import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { Env, clusterNodes, envReaders, pem } from './env-readers';
import { IntegratorKey, parseIntegratorKeys } from './integrator-keys';
import { OpsConfig, opsConfig } from './ops-config';

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
  /** Integrator keys by key id: RECEIPT_HMAC_KEYS plus `default` (RECEIPT_HMAC_SECRET). */
  receiptHmacKeys: ReadonlyMap<string, IntegratorKey>;
  merchantResponseSlaMs: number;
  resolutionSlaMs: number;
  complaintWindowDays: number;
  /**
   * REGULATOR_ACCEPT_WORKDAYS / MEDIATION_WORKDAYS: override the national rule set's acceptance and
   * mediation limits; null (unset) = the values of its file (rules/cn-12315.json: 7 and 45).
   */
  regulatorAcceptWorkdays: number | null;
  mediationWorkdays: number | null;
  /** RULE_SET: id of the rule set offices use unless they name one (checked against the loaded sets at boot). */
  ruleSet: string;
  /** RULE_SETS_DIR: folder of rules/<id>.json rule sets loaded at boot (relative to the working directory). */
  ruleSetsDir: string;
  /** CALENDAR_DIR: folder of calendar/<year>.json notices loaded at boot (relative to the working directory). */
  calendarDir: string;
  sweepIntervalMs: number;
  piiKey: Buffer;
  authDevLogin: boolean;
  /** Largest accepted body for ordinary requests (1 MB by contract). */
  bodyLimitBytes: number;
  /** Largest accepted NDJSON body on POST /v1/receipts/batch. */
  batchBodyLimitBytes: number;
  /** NDJSON batch uploads one API process reads at a time; more → 429 RATE_LIMITED. */
  batchMaxConcurrent: number;
  /** HTTP server: whole request (headers + body) must arrive within this (Node requestTimeout). */
  requestTimeoutMs: number;
  /** HTTP server: request headers must arrive within this (Node headersTimeout). */
  headersTimeoutMs: number;
  /** HTTP server: a socket with no traffic for this long is closed (Fastify connectionTimeout). */
  connectionTimeoutMs: number;
  /** HTTP server: an idle keep-alive connection is closed after this (keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /** Rate limit for complaint creation and messages: requests per window per caller. */
  rateLimit: number;
  rateLimitWindowMs: number;
  logLevel: string;
  /** Merchant webhooks: tries before a delivery is dead-lettered, first retry delay (doubling), request timeout. */
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
  webhookTimeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE: webhooks may go to http:// and non-public addresses (development, tests). */
  webhookAllowPrivate: boolean;
  /** Manual retries of one delivery per rolling 24 hours (WEBHOOK_MANUAL_RETRIES). */
  webhookManualRetries: number;
  /** OUTBOX_RETENTION: done outbox rows and delivered webhook deliveries older than this are purged. */
  outboxRetentionMs: number;
  /**
   * WORKER_QUEUES: the queues this worker process runs (comma-separated, e.g. `webhooks` in one
   * process and `deadlines,stats,maintenance` in another); null (unset) = all of them.
   */
  workerQueues: string[] | null;
  /** Serial complainants: at least this many tickets against at least this many merchants within the window. */
  serialComplainantMinTickets: number;
  serialComplainantMinMerchants: number;
  serialComplainantWindowMs: number;
  /** Repeat offenders: merchants with at least this many escalations within the window. */
  repeatOffenderMinEscalations: number;
  repeatOffenderWindowMs: number;
  /** An accepted offer must be carried out within this (settleBy = accepted + SETTLEMENT_SLA). */
  settlementSlaMs: number;
  /** A pending offer expires unanswered after this (OFFER_RESPONSE_SLA). */
  offerResponseSlaMs: number;
  /** SMTP server for merchant e-mail (SMTP_URL); null: no e-mail. */
  smtpUrl: string | null;
  mailFrom: string | null;
  /** TRAIL_SIGNING_KEY: Ed25519 private key (PEM) signing trail checkpoints; null = no checkpoints. */
  trailSigningKey: KeyObject | null;
  /** CHECKPOINT_INTERVAL (default 1h). */
  checkpointIntervalMs: number;
  // ------------------------------------------------ tokens, sessions and operations (SECURITY.md)
  /** NODE_ENV; `production` refuses AUTH_DEV_LOGIN=true. */
  nodeEnv: string;
  /** Address the API listens on (HOST): 0.0.0.0 by default, the demo sets 127.0.0.1. */
  host: string;
  /** Tokens whose `iat` is older than this are refused (JWT_MAX_AGE, default 24h). */
  jwtMaxAgeMs: number;
  /** Required `iss` / `aud` claims when set. */
  jwtIssuer: string | null;
  jwtAudience: string | null;
  /** Bearer token for GET /metrics; null: /metrics answers 404. */
  metricsToken: string | null;
  /** Proxies whose X-Forwarded-* headers are believed (TRUST_PROXY: addresses/CIDRs); [] = none. */
  trustProxy: string[];
  /** Every authenticated write, per caller per window (WRITE_RATE_LIMIT, WRITE_RATE_LIMIT_WINDOW). */
  writeRateLimit: number;
  writeRateLimitWindowMs: number;
  /** Open event streams per caller and per API process; beyond them 429. */
  streamMaxPerCaller: number;
  streamMaxTotal: number;
  /** A stream whose unsent bytes stay above this for STREAM_SLOW_READER_GRACE is closed. */
  streamMaxBufferBytes: number;
  streamSlowReaderGraceMs: number;
  /** Lifetime of a single-use stream ticket (STREAM_TICKET_TTL). */
  streamTicketTtlMs: number;
  /** Lifetime of a Bull Board session (ADMIN_SESSION_TTL). */
  adminSessionTtlMs: number;
  /** One `regulator_viewed` event per officer per ticket per this window (REGULATOR_VIEW_WINDOW). */
  regulatorViewWindowMs: number;
  /** Evidence: largest file (bytes) and files per party per ticket. */
  attachmentMaxBytes: number;
  attachmentMaxCount: number;
  /** Scale (docs/SCALE.md): a streaming replica for read-heavy routes, and Redis Cluster. */
  scale: ScaleConfig;
}

export interface ScaleConfig {
  /** Read replica for lists, statistics and the live feed; null = everything on the primary. */
  databaseReplicaUrl: string | null;
  /** A replica further behind than this (or down) is skipped: reads go to the primary. */
  replicaMaxLagMs: number;
  replicaCheckIntervalMs: number;
  /** Redis Cluster seed nodes (host:port, …); null = the single Redis of REDIS_URL. */
  redisClusterNodes: { host: string; port: number }[] | null;
  /**
   * PARTITION_RETENTION_MONTHS: months of receipts and refunds kept (besides the current one);
   * older monthly partitions are dropped by the worker's daily maintenance, except a month still
   * holding a receipt a ticket references. 0 (the default) = off: nothing is ever dropped.
   */
  partitionRetentionMonths: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Env = process.env): HejieConfig {
  const problems: string[] = [];
  const { str, int, duration, bool, url, queueList } = envReaders(env, problems);
  /** An integer that is configuration only when set (null: the rule set file's value). */
  const optionalInt = (name: string, min: number, max: number): number | null =>
    env[name] === undefined || env[name] === '' ? null : int(name, min, min, max);

  const jwtSecret = str('JWT_SECRET');
  if (jwtSecret && Buffer.byteLength(jwtSecret, 'utf8') < 32)
    problems.push('JWT_SECRET must be at least 32 bytes (openssl rand -hex 32)');

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

  const config: Omit<HejieConfig, keyof OpsConfig> = {
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
    receiptHmacKeys: parseIntegratorKeys(
      env.RECEIPT_HMAC_KEYS,
      env.RECEIPT_HMAC_SECRET || null,
      problems,
    ),
    merchantResponseSlaMs: duration('MERCHANT_RESPONSE_SLA', '96h'),
    resolutionSlaMs: duration('RESOLUTION_SLA', '7d'),
    complaintWindowDays: int('COMPLAINT_WINDOW_DAYS', 30, 1, 3650),
    regulatorAcceptWorkdays: optionalInt('REGULATOR_ACCEPT_WORKDAYS', 1, 365),
    mediationWorkdays: optionalInt('MEDIATION_WORKDAYS', 1, 365),
    ruleSet: str('RULE_SET', 'cn-12315'),
    ruleSetsDir: str('RULE_SETS_DIR', 'rules'),
    calendarDir: str('CALENDAR_DIR', 'calendar'),
    sweepIntervalMs: duration('SWEEP_INTERVAL', '30s'),
    piiKey,
    authDevLogin: bool('AUTH_DEV_LOGIN', false),
    bodyLimitBytes: int('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    batchBodyLimitBytes: int('BATCH_BODY_LIMIT_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    batchMaxConcurrent: int('BATCH_MAX_CONCURRENT', 2, 1, 1000),
    requestTimeoutMs: duration('REQUEST_TIMEOUT', '30s'),
    headersTimeoutMs: duration('HEADERS_TIMEOUT', '10s'),
    connectionTimeoutMs: duration('CONNECTION_TIMEOUT', '120s'),
    keepAliveTimeoutMs: duration('KEEP_ALIVE_TIMEOUT', '72s'),
    rateLimit: int('RATE_LIMIT', 30, 1, 1_000_000),
    rateLimitWindowMs: duration('RATE_LIMIT_WINDOW', '1m'),
    logLevel: str('LOG_LEVEL', 'info'),
    webhookMaxAttempts: int('WEBHOOK_MAX_ATTEMPTS', 8, 1, 100),
    webhookBackoffMs: duration('WEBHOOK_BACKOFF', '10s'),
    webhookTimeoutMs: duration('WEBHOOK_TIMEOUT', '5s'),
    webhookAllowPrivate: bool('WEBHOOK_ALLOW_PRIVATE', false),
    webhookManualRetries: int('WEBHOOK_MANUAL_RETRIES', 3, 1, 1000),
    outboxRetentionMs: duration('OUTBOX_RETENTION', '7d'),
    workerQueues: queueList('WORKER_QUEUES'),
    serialComplainantMinTickets: int('SERIAL_COMPLAINANT_MIN_TICKETS', 5, 2, 10_000),
    serialComplainantMinMerchants: int('SERIAL_COMPLAINANT_MIN_MERCHANTS', 3, 1, 10_000),
    serialComplainantWindowMs: duration('SERIAL_COMPLAINANT_WINDOW', '30d'),
    repeatOffenderMinEscalations: int('REPEAT_OFFENDER_MIN_ESCALATIONS', 10, 1, 1_000_000),
    repeatOffenderWindowMs: duration('REPEAT_OFFENDER_WINDOW', '90d'),
    settlementSlaMs: duration('SETTLEMENT_SLA', '72h'),
    offerResponseSlaMs: duration('OFFER_RESPONSE_SLA', '7d'),
    smtpUrl: env.SMTP_URL || null,
    mailFrom: env.MAIL_FROM || null,
    trailSigningKey,
    checkpointIntervalMs: duration('CHECKPOINT_INTERVAL', '1h'),
    attachmentMaxBytes: int('ATTACHMENT_MAX_BYTES', 20 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    attachmentMaxCount: int('ATTACHMENT_MAX_COUNT', 10, 1, 1000),
    scale: {
      databaseReplicaUrl: env.DATABASE_REPLICA_URL
        ? url('DATABASE_REPLICA_URL', '', ['postgres:', 'postgresql:'])
        : null,
      replicaMaxLagMs: duration('REPLICA_MAX_LAG', '5s'),
      replicaCheckIntervalMs: duration('REPLICA_CHECK_INTERVAL', '1s'),
      redisClusterNodes: clusterNodes(env.REDIS_CLUSTER_NODES, problems),
      partitionRetentionMonths: int('PARTITION_RETENTION_MONTHS', 0, 0, 1200),
    },
  };
  if (config.smtpUrl) {
    try {
      if (!['smtp:', 'smtps:'].includes(new URL(config.smtpUrl).protocol)) throw new Error();
    } catch {
      problems.push(`SMTP_URL must be an smtp: or smtps: URL, got "${config.smtpUrl}"`);
    }
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    problems.push('HEADERS_TIMEOUT must not be longer than REQUEST_TIMEOUT');
  }
  const ops = opsConfig(env, { str, int, duration, bool }, problems);
  if (problems.length) throw new ConfigError(problems);
  return { ...config, ...ops };
}
