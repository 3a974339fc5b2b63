import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { DirectoryModule } from '@app/directory';
import { ClockModule } from '@app/shared';
import { AppealsService } from './appeals/appeals.service';
import { ChangeWriter } from './changes/change-writer';
import { TicketTransitions } from './changes/transitions';
import { IntakeUseCase } from './use-cases/intake';
import { ReadingUseCase } from './use-cases/reading';
import { NegotiationUseCase } from './use-cases/negotiation';
import { EscalationUseCase } from './use-cases/escalation';
import { RegulatorUseCase } from './use-cases/regulator';
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
import { TicketReads } from './reads/ticket-reads';
import { TicketFeed } from './feed/ticket-feed';

/** The lib's services: provided, and exported to the API and the worker. */
const SERVICES = [
  ChangeWriter,
  TicketTransitions,
  IntakeUseCase,
  ReadingUseCase,
  NegotiationUseCase,
  EscalationUseCase,
  RegulatorUseCase,
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
  TicketReads,
  TicketFeed,
];

/** Needs QueueRootModule (BullMQ's connection) in the application that imports it. */
@Module({
  imports: [DirectoryModule, ClockModule, BullModule.registerQueue({ name: DEADLINES_QUEUE })],
  providers: SERVICES,
  exports: [...SERVICES, BullModule, ClockModule],
})
export class ComplaintsModule {}
