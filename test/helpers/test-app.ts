import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import request from 'supertest';
import { generateRsaKeyPair, RsaKeyPair } from '../../libs/receipts/src/verifiers/test-signers';
import { AppBuilder, createApp } from '../../apps/api/src/app.factory';
import { AppModule } from '../../apps/api/src/app.module';
import { CLOCK } from '../../libs/shared/src/clock';
import type { Clock } from '../../libs/shared/src/clock';

export const JWT_SECRET = 'test-secret-0123456789abcdef-0123456789'; // >= 32 bytes
/** GET /metrics needs it (API.md Operations); `metricsAuth()` is the header. */
export const METRICS_TOKEN = 'test-metrics-token-0123456789';
export const HMAC_SECRET = 'hmac-test-secret';
export const APIV3_KEY = 'abcdefghijklmnopqrstuvwxyz012345'; // 32 bytes

export interface TestKeys {
  alipay: RsaKeyPair;
  wechatpay: RsaKeyPair;
}

export interface TestApp {
  app: NestFastifyApplication;
  http: ReturnType<typeof request>;
  db: DataSource;
  keys: TestKeys;
  token(
    claims: { role: string; sub?: string; merchantId?: string; officeId?: string },
    expiresIn?: string,
  ): string;
  close(): Promise<void>;
}

/**
 * The API as main.ts builds it, on the run's fresh database, with test provider keys.
 * `env` overrides configuration for this app; `clock` replaces the domain clock (CLOCK), e.g. a
 * FakeClock (helpers/fake-clock.ts) that deadline tests advance instead of sleeping.
 */
export async function startTestApp(
  env: Record<string, string | undefined> = {},
  options: { clock?: Clock } = {},
): Promise<TestApp> {
  const keys: TestKeys = {
    alipay: generateRsaKeyPair('alipay'),
    wechatpay: generateRsaKeyPair('wechatpay'),
  };
  const defaults: Record<string, string> = {
    JWT_SECRET,
    PII_KEY: randomBytes(32).toString('base64'),
    ALIPAY_PUBLIC_KEY: keys.alipay.publicKeyPem,
    WECHATPAY_PLATFORM_PUBLIC_KEY: keys.wechatpay.publicKeyPem,
    WECHATPAY_APIV3_KEY: APIV3_KEY,
    RECEIPT_HMAC_SECRET: HMAC_SECRET,
    AUTH_DEV_LOGIN: 'false',
    LOG_LEVEL: 'silent',
    METRICS_TOKEN,
    // Suites make many writes with one token; the write limit's own test lowers it.
    WRITE_RATE_LIMIT: '100000',
  };
  for (const [k, v] of Object.entries({ ...defaults, ...env })) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const app = await createApp({ logger: false }, options.clock && withClock(options.clock));
  const jwt = new JwtService({ secret: JWT_SECRET });
  return {
    app,
    http: request(app.getHttpServer()),
    db: app.get(DataSource),
    keys,
    token: (claims, expiresIn = '1h') =>
      jwt.sign(
        { sub: claims.sub ?? `${claims.role}-user`, ...claims },
        { expiresIn: expiresIn as never },
      ),
    close: () => app.close(),
  };
}

/** AppModule compiled with the given clock in place of systemClock (a test-only override). */
function withClock(clock: Clock): AppBuilder {
  return async (adapter, appOptions) => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(CLOCK)
      .useValue(clock)
      .compile();
    return moduleRef.createNestApplication(adapter, appOptions);
  };
}

export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

export function metricsAuth(): { Authorization: string } {
  return bearer(METRICS_TOKEN);
}
