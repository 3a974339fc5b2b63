import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { LoggerModule } from 'nestjs-pino';
import { DatabaseModule } from '@app/database';
import { HEJIE_CONFIG, HejieConfigModule } from '@app/shared';
import type { HejieConfig } from '@app/shared';

/** The worker: BullMQ processors on the same libs as the API; no HTTP server, no migrations. */
@Module({
  imports: [
    HejieConfigModule,
    LoggerModule.forRootAsync({
      inject: [HEJIE_CONFIG],
      useFactory: (config: HejieConfig) => ({ pinoHttp: { level: config.logLevel } }),
    }),
    DatabaseModule,
    BullModule.forRootAsync({
      inject: [HEJIE_CONFIG],
      useFactory: (config: HejieConfig) => ({
        connection: { url: config.redisUrl, maxRetriesPerRequest: null },
        prefix: config.queuePrefix,
      }),
    }),
  ],
})
export class WorkerModule {}
