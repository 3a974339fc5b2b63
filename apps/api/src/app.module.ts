import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { LoggerModule } from 'nestjs-pino';
import { createSecretKey, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DatabaseModule } from '@app/database';
import { DirectoryModule } from '@app/directory';
import { ReceiptsModule } from '@app/receipts';
import { ComplaintsModule, EvidenceModule } from '@app/complaints';
import { ThrottlerModule } from '@nestjs/throttler';
import { HEJIE_CONFIG, HejieConfigModule, QueueRootModule, loadConfig } from '@app/shared';
import type { HejieConfig, RedisClient } from '@app/shared';
import { DevTokenController } from './auth/dev-token.controller';
import { MerchantsController } from './directory/merchants.controller';
import { OfficesController } from './directory/offices.controller';
import { AuthGuard } from './http/auth';
import { requestLoggerOptions } from './http/request-logger';
import { ProblemFilter } from './http/problem.filter';
import { OpsController } from './ops/ops.controller';
import { REDIS } from './ops/redis.provider';
import { RedisModule } from './ops/redis.module';
import { ComplaintsController } from './complaints/complaints.controller';
import { AppealsController } from './complaints/appeals.controller';
import { TrailController } from './trail/trail.controller';
import { EvidenceController } from './complaints/evidence.controller';
import { StatsController } from './stats/stats.controller';
import { MerchantWebhooksController } from './webhooks/merchant-webhooks.controller';
import { DomainMetrics } from './ops/domain-metrics';
import { BullModule } from '@nestjs/bullmq';
import { STATS_QUEUE, WEBHOOKS_QUEUE } from '@app/complaints';
import { RedisThrottlerStorage } from './http/rate-limit';
import { WriteLimiter, WriteRateLimitGuard } from './http/write-rate-limit';
import { ReceiptsController, RefundsController } from './receipts/receipts.controller';
import { StreamModule } from './stream/stream.module';
import { CalendarController } from './calendar/calendar.controller';

export function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
}

@Module({
  imports: [
    HejieConfigModule,
    LoggerModule.forRootAsync({
      inject: [HEJIE_CONFIG],
      useFactory: (config: HejieConfig) => ({
        pinoHttp: requestLoggerOptions(config, requestId),
      }),
    }),
    JwtModule.registerAsync({
      global: true,
      inject: [HEJIE_CONFIG],
      useFactory: (config: HejieConfig) => ({
        // A KeyObject, not the string: given a string, jsonwebtoken first tries (and fails) to
        // parse it as a PEM public key on every verify, ~0.3 ms of CPU per request.
        secret: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')),
        signOptions: { algorithm: 'HS256' },
      }),
    }),
    RedisModule,
    QueueRootModule,
    ThrottlerModule.forRootAsync({
      inject: [HEJIE_CONFIG, REDIS],
      useFactory: (config: HejieConfig, redis: RedisClient) => ({
        throttlers: [{ name: 'default', ttl: config.rateLimitWindowMs, limit: config.rateLimit }],
        // Not hash-tagged: one counter per caller, spread over the cluster's slots.
        storage: new RedisThrottlerStorage(
          redis,
          `${config.queuePrefix.replace(/[{}]/g, '')}:throttle:`,
        ),
      }),
    }),
    DatabaseModule,
    DirectoryModule,
    ReceiptsModule,
    ComplaintsModule,
    EvidenceModule,
    BullModule.registerQueue({ name: STATS_QUEUE }, { name: WEBHOOKS_QUEUE }),
    StreamModule,
  ],
  controllers: [
    OpsController,
    DevTokenController,
    MerchantsController,
    OfficesController,
    ReceiptsController,
    RefundsController,
    ComplaintsController,
    AppealsController,
    TrailController,
    EvidenceController,
    StatsController,
    MerchantWebhooksController,
    CalendarController,
  ],
  providers: [
    DomainMetrics,
    WriteLimiter,
    { provide: APP_GUARD, useClass: AuthGuard },
    // After AuthGuard (global guards run in this order): it counts per authenticated caller.
    { provide: APP_GUARD, useClass: WriteRateLimitGuard },
    { provide: APP_FILTER, useClass: ProblemFilter },
  ],
})
export class AppModule {}

export { loadConfig };
