import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { MAIL_QUEUE, MAIL_SEND_JOB, MailService } from '@app/complaints';
import type { MailRound } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { TickingHost } from './ticking-host';
import type { Tick } from './ticking-host';
import { roundsUntilShort } from './rounds';

/** Mails claimed per round. */
export const MAIL_BATCH = 20;

/**
 * Merchant e-mail: each round queues the 24-hour reminders that fell due, then sends the due
 * mails of the outbox (MailService). Ticks every second (or SWEEP_INTERVAL when shorter) like
 * the webhook deliveries; with no SMTP_URL a round does nothing.
 */
@Processor(MAIL_QUEUE, { concurrency: 2, autorun: false })
export class MailProcessor extends TickingHost {
  protected readonly logger = new Logger(MailProcessor.name);

  readonly handlers: Record<typeof MAIL_SEND_JOB, (job: Job) => Promise<unknown>> = {
    [MAIL_SEND_JOB]: () => this.round(),
  };

  constructor(
    private readonly mail: MailService,
    @InjectQueue(MAIL_QUEUE) queue: Queue,
    @Inject(HEJIE_CONFIG) config: HejieConfig,
  ) {
    super(queue, config);
  }

  protected skipReason(): string | null {
    return this.mail.enabled ? null : 'SMTP_URL is not set: no merchant e-mail';
  }

  protected ticks(): Tick[] {
    return [{ name: MAIL_SEND_JOB, idPrefix: 'mail', everyMs: this.everySecond }];
  }

  async round(): Promise<MailRound & { reminders: number }> {
    const reminders = await this.mail.enqueueReminders();
    const total = await roundsUntilShort(
      MAIL_BATCH,
      () => this.mail.sendDue(MAIL_BATCH),
      (r) => r.claimed,
    );
    if (total.claimed > 0) {
      this.logger.log(`mail: sent ${total.sent}, retrying ${total.retrying}, dead ${total.dead}`);
    }
    return { ...total, reminders };
  }
}
