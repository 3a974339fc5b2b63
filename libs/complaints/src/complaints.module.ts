import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { DirectoryModule } from '@app/directory';
import { CLOCK, systemClock } from '@app/shared';
import { AppealsService } from './appeals/appeals.service';
import { ComplaintsService } from './complaints.service';
import { CheckpointsService } from './trail/checkpoints/checkpoints.service';
import { DeadlineScheduler } from './jobs/deadline-scheduler';
import { DEADLINES_QUEUE } from './jobs/jobs';
import { StatsService } from './stats/stats.service';
import { WebhooksService } from './webhooks/webhooks.service';
import { SettlementService } from './settlement/settlement.service';
import { MailService } from './mail/mail.service';
import { OutboxRetentionService } from './outbox/outbox-retention.service';
import { PartitionsService } from './maintenance/partitions.service';
import { CalendarService } from './calendar/calendar.service';
import { RulesService } from './rules/rules.service';

/** Needs QueueRootModule (BullMQ's connection) in the application that imports it. */
@Module({
  imports: [DirectoryModule, BullModule.registerQueue({ name: DEADLINES_QUEUE })],
  providers: [
    ComplaintsService,
    SettlementService,
    MailService,
    AppealsService,
    CheckpointsService,
    StatsService,
    DeadlineScheduler,
    WebhooksService,
    OutboxRetentionService,
    PartitionsService,
    CalendarService,
    RulesService,
    { provide: CLOCK, useValue: systemClock },
  ],
  exports: [
    ComplaintsService,
    SettlementService,
    MailService,
    AppealsService,
    CheckpointsService,
    StatsService,
    DeadlineScheduler,
    WebhooksService,
    OutboxRetentionService,
    PartitionsService,
    CalendarService,
    RulesService,
    BullModule,
    CLOCK,
  ],
})
export class ComplaintsModule {}
