import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CLOCK, HEJIE_CONFIG } from '@app/shared';
import type { Clock, HejieConfig } from '@app/shared';

/** Rows deleted per statement: short transactions, no long lock on the tables. */
export const PURGE_BATCH = 5000;

export interface PurgeResult {
  outbox: number;
  webhookDeliveries: number;
}

/**
 * The outbox does not grow without bound: rows already handled (`outbox.state = 'done'`, and
 * webhook deliveries that were delivered) are deleted once older than OUTBOX_RETENTION (default
 * 7d), in batches. Pending and dead rows are never purged: they still need someone. The trail
 * (complaint_events) is the record; the outbox only ever carried copies of it. Merchant mails
 * (topic 'mail') are kept: their row, unique per (ticket, mail kind), is what makes each mail go
 * once (mail/mail.service.ts) — at most four small rows per ticket.
 */
@Injectable()
export class OutboxRetentionService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async purge(batch = PURGE_BATCH): Promise<PurgeResult> {
    const before = new Date(this.clock.now().getTime() - this.config.outboxRetentionMs);
    return {
      outbox: await this.purgeTable(
        `WITH gone AS (
           SELECT id FROM outbox WHERE state = 'done' AND done_at < $1 AND topic <> 'mail'
            ORDER BY done_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         DELETE FROM outbox o USING gone WHERE o.id = gone.id`,
        before,
        batch,
      ),
      webhookDeliveries: await this.purgeTable(
        `WITH gone AS (
           SELECT id FROM webhook_deliveries WHERE state = 'done' AND delivered_at < $1
            ORDER BY delivered_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         DELETE FROM webhook_deliveries d USING gone WHERE d.id = gone.id`,
        before,
        batch,
      ),
    };
  }

  private async purgeTable(sql: string, before: Date, batch: number): Promise<number> {
    let total = 0;
    for (;;) {
      const [, n]: [unknown, number] = await this.db.query(sql, [before, batch]);
      total += n;
      if (n < batch) return total;
    }
  }
}
