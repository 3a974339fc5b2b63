import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { HEJIE_CONFIG } from './config/config.module';
import type { HejieConfig } from './config/hejie-config';
import { bullConnection, queueKeyPrefix } from './redis';

/** BullMQ's Redis connection and key prefix, shared by the API (producers) and the worker. */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [HEJIE_CONFIG],
      useFactory: (config: HejieConfig) => ({
        connection: bullConnection(config),
        prefix: queueKeyPrefix(config),
      }),
    }),
  ],
})
export class QueueRootModule {}
