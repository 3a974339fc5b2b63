import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { MAIL_QUEUE, MAIL_SEND_JOB, MailService } from '@app/complaints';
import type { MailRound } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { TickingHost } from './ticking-host';

/** Mails claimed per round. */
export const MAIL_BATCH = 20;

/**
 * Merchant e-mail: each round queues the 24-hour reminders that fell due, then sends the due
 * mails of the outbox (MailService). Ticks every second (or SWEEP_INTERVAL when shorter) like
 * the webhook deliveries; with no SMTP_URL a round does nothing.
 */
@Processor(MAIL_QUEUE, { concurrency: 2, autorun: false })
export class MailProcessor extends TickingHost implements OnApplicationBootstrap {
  protected readonly logger = new Logger(MailProcessor.name);

  readonly handlers: Record<typeof MAIL_SEND_JOB, (job: Job) => Promise<unknown>> = {
    [MAIL_SEND_JOB]: () => this.round(),
  };

  constructor(
    private readonly mail: MailService,
    @InjectQueue(MAIL_QUEUE) private readonly queue: Queue,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    if (!this.mail.enabled) {
      this.logger.log('SMTP_URL is not set: no merchant e-mail');
      return;
    }
    if (!this.runHere(this.queue, this.config.workerQueues)) return;
    this.startTicking(
      this.queue,
      MAIL_SEND_JOB,
      'mail',
      Math.min(1000, this.config.sweepIntervalMs),
    );
  }

  async round(): Promise<MailRound & { reminders: number }> {
    const reminders = await this.mail.enqueueReminders();
    const total: MailRound = { claimed: 0, sent: 0, retrying: 0, dead: 0 };
    for (;;) {
      const r = await this.mail.sendDue(MAIL_BATCH);
      total.claimed += r.claimed;
      total.sent += r.sent;
      total.retrying += r.retrying;
      total.dead += r.dead;
      if (r.claimed < MAIL_BATCH) break;
    }
    if (total.claimed > 0) {
      this.logger.log(`mail: sent ${total.sent}, retrying ${total.retrying}, dead ${total.dead}`);
    }
    return { ...total, reminders };
  }
}
