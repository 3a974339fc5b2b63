import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import {
  CHECKPOINTS_QUEUE,
  DEADLINES_QUEUE,
  MAIL_QUEUE,
  MAINTENANCE_QUEUE,
  STATS_QUEUE,
  WEBHOOKS_QUEUE,
  assertOneProcessorPerJob,
} from '@app/complaints';
import { DeadlinesProcessor } from './deadlines.processor';
import { MailProcessor } from './mail.processor';
import { StatsProcessor } from './stats.processor';
import { WebhooksProcessor } from './webhooks.processor';
import { CheckpointsProcessor } from './checkpoints.processor';
import { MaintenanceProcessor } from './maintenance.processor';

/**
 * A job name without exactly one processor stops the worker at boot. Every processor of the
 * worker is listed here with its queue and handler map.
 */
@Injectable()
export class ProcessorBootCheck implements OnModuleInit {
  constructor(
    private readonly deadlines: DeadlinesProcessor,
    private readonly stats: StatsProcessor,
    private readonly webhooks: WebhooksProcessor,
    private readonly mail: MailProcessor,
    private readonly checkpoints: CheckpointsProcessor,
    private readonly maintenance: MaintenanceProcessor,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
  ) {}

  onModuleInit(): void {
    const handlerMaps = {
      [DEADLINES_QUEUE]: this.deadlines.handlers,
      [STATS_QUEUE]: this.stats.handlers,
      [WEBHOOKS_QUEUE]: this.webhooks.handlers,
      [MAIL_QUEUE]: this.mail.handlers,
      [CHECKPOINTS_QUEUE]: this.checkpoints.handlers,
      [MAINTENANCE_QUEUE]: this.maintenance.handlers,
    };
    assertOneProcessorPerJob(handlerMaps);
    const unknown = (this.config.workerQueues ?? []).filter((q) => !(q in handlerMaps));
    if (unknown.length) {
      throw new Error(
        `WORKER_QUEUES names unknown queue(s) ${unknown.join(', ')}; known: ${Object.keys(handlerMaps).join(', ')}`,
      );
    }
  }
}
