import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { ComplaintsModule } from '@app/complaints';
import { DatabaseModule } from '@app/database';
import { HEJIE_CONFIG, HejieConfigModule, QueueRootModule } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { ProcessorBootCheck } from './processors/boot-check';
import { DeadlinesProcessor } from './processors/deadlines.processor';
import { StatsProcessor } from './processors/stats.processor';
import { WebhooksProcessor } from './processors/webhooks.processor';
import { CheckpointsProcessor } from './processors/checkpoints.processor';
import { MaintenanceProcessor } from './processors/maintenance.processor';
import { BullModule } from '@nestjs/bullmq';
import {
  CHECKPOINTS_QUEUE,
  MAIL_QUEUE,
  MAINTENANCE_QUEUE,
  STATS_QUEUE,
  WEBHOOKS_QUEUE,
} from '@app/complaints';
import { MailProcessor } from './processors/mail.processor';

/** The worker: BullMQ processors on the same libs as the API; no HTTP server, no migrations. */
@Module({
  imports: [
    HejieConfigModule,
    LoggerModule.forRootAsync({
      inject: [HEJIE_CONFIG],
      useFactory: (config: HejieConfig) => ({ pinoHttp: { level: config.logLevel } }),
    }),
    DatabaseModule,
    QueueRootModule,
    ComplaintsModule,
    BullModule.registerQueue({ name: STATS_QUEUE }),
    BullModule.registerQueue({ name: WEBHOOKS_QUEUE }),
    BullModule.registerQueue({ name: MAIL_QUEUE }),
    BullModule.registerQueue({ name: CHECKPOINTS_QUEUE }),
    BullModule.registerQueue({ name: MAINTENANCE_QUEUE }),
  ],
  providers: [
    DeadlinesProcessor,
    StatsProcessor,
    WebhooksProcessor,
    MailProcessor,
    CheckpointsProcessor,
    MaintenanceProcessor,
    ProcessorBootCheck,
  ],
})
export class WorkerModule {}
