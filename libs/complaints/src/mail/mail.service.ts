import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createTransport } from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { DataSource } from 'typeorm';
import { CLOCK, HEJIE_CONFIG } from '@app/shared';
import type { Clock, HejieConfig } from '@app/shared';
import { ComplaintRow, ticketView } from '../complaint.row';
import { MailKind, renderMail } from './mail-templates';

/** Tries before a mail is given up (state dead); the delay doubles from MAIL_BACKOFF_MS. */
export const MAIL_MAX_ATTEMPTS = 8;
const MAIL_BACKOFF_MS = 30_000;
/** The 24-hour reminder before merchantRespondBy. */
const REMIND_BEFORE_MS = 24 * 3600_000;

export interface MailRound {
  claimed: number;
  sent: number;
  retrying: number;
  dead: number;
}

/**
 * Merchant e-mail through the transactional outbox (topic 'mail'): the row is written in the
 * transaction of the event that causes it (a new ticket, an accepted money offer waiting for its
 * refund, an escalation) or by the worker for the 24-hour reminder; a unique index on
 * (ticket, mail kind) makes each mail exist once, whatever retries or races. The worker sends
 * due rows with nodemailer to SMTP_URL, marks them done in the same transaction, retries with
 * backoff, and gives up after MAIL_MAX_ATTEMPTS (state dead). Each mail carries the Message-ID
 * `<ticket.kind@hejie>`: should a send succeed and its commit fail, the one re-send is the same
 * message to the receiving server. No SMTP_URL: nothing is queued.
 */
@Injectable()
export class MailService implements OnModuleDestroy {
  private readonly logger = new Logger(MailService.name);
  private transport?: Transporter;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  get enabled(): boolean {
    return Boolean(this.config.smtpUrl);
  }

  /** Worker: the reminders of tickets whose merchantRespondBy is less than 24 hours away. */
  async enqueueReminders(): Promise<number> {
    if (!this.enabled) return 0;
    const now = this.clock.now();
    const rows: unknown[] = await this.db.query(
      `INSERT INTO outbox (topic, complaint_id, event_seq, event_type, payload, created_at, next_attempt_at)
       SELECT 'mail', c.id, c.event_count, 'respond_reminder',
              jsonb_build_object('mailKind', 'respond_reminder'), $1, $1
         FROM complaints c JOIN merchants m ON m.id = c.merchant_id
        WHERE c.status = 'awaiting_merchant'
          AND c.merchant_respond_by > $1 AND c.merchant_respond_by <= $2
          AND m.contact_email IS NOT NULL
       ON CONFLICT (complaint_id, (payload->>'mailKind')) WHERE topic = 'mail' DO NOTHING
       RETURNING id`,
      [now, new Date(now.getTime() + REMIND_BEFORE_MS)],
    );
    return rows.length;
  }

  /** One round: due mails claimed (SKIP LOCKED), sent, and marked in the same transaction. */
  async sendDue(limit = 20): Promise<MailRound> {
    const round: MailRound = { claimed: 0, sent: 0, retrying: 0, dead: 0 };
    if (!this.enabled) return round;
    await this.db.transaction(async (tx) => {
      const due: {
        id: string;
        attempts: number;
        kind: MailKind;
        to: string | null;
        ticket: Record<string, unknown>;
      }[] = await tx.query(
        `SELECT o.id, o.attempts, o.payload->>'mailKind' AS kind, m.contact_email AS to,
                to_jsonb(c.*) AS ticket
           FROM outbox o
           JOIN complaints c ON c.id = o.complaint_id
           JOIN merchants m ON m.id = c.merchant_id
          WHERE o.topic = 'mail' AND o.state = 'pending' AND o.next_attempt_at <= $1
          ORDER BY o.next_attempt_at, o.id LIMIT $2
          FOR UPDATE OF o SKIP LOCKED`,
        [this.clock.now(), limit],
      );
      round.claimed = due.length;
      for (const mail of due) {
        try {
          if (!mail.to) throw new Error('the merchant has no contactEmail any more');
          await this.send(mail.to, mail.kind, reviveRow(mail.ticket));
          await tx.query(`UPDATE outbox SET state = 'done', done_at = $2 WHERE id = $1`, [
            mail.id,
            this.clock.now(),
          ]);
          round.sent++;
        } catch (e) {
          const attempts = mail.attempts + 1;
          const dead = attempts >= MAIL_MAX_ATTEMPTS;
          await tx.query(
            `UPDATE outbox SET attempts = $2, state = $3, last_error = $4, next_attempt_at = $5
              WHERE id = $1`,
            [
              mail.id,
              attempts,
              dead ? 'dead' : 'pending',
              String((e as Error)?.message ?? e).slice(0, 500),
              new Date(this.clock.now().getTime() + MAIL_BACKOFF_MS * 2 ** (attempts - 1)),
            ],
          );
          if (dead) round.dead++;
          else round.retrying++;
          this.logger.warn(`mail ${mail.id} (${mail.kind}) failed: ${String(e)}`);
        }
      }
    });
    return round;
  }

  private async send(to: string, kind: MailKind, row: ComplaintRow): Promise<void> {
    const merchant = { role: 'merchant' as const, sub: 'mail', merchantId: row.merchant_id };
    const view = ticketView(row, merchant, this.config.piiKey, this.clock.now());
    const { subject, text } = renderMail(kind, view);
    this.transport ??= createTransport(this.config.smtpUrl!);
    await this.transport.sendMail({
      from: this.config.mailFrom ?? 'Hejie <no-reply@hejie.invalid>',
      to,
      subject,
      text,
      messageId: `<${row.id}.${kind}@hejie>`,
      textEncoding: 'base64',
    });
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }
}

/** to_jsonb(complaints.*) back to the row shape: timestamps as Dates. */
function reviveRow(json: Record<string, unknown>): ComplaintRow {
  const row = { ...json } as Record<string, unknown>;
  for (const k of [
    'merchant_respond_by',
    'resolve_by',
    'first_response_at',
    'escalated_at',
    'accept_by',
    'accepted_at',
    'mediation_end_by',
    'closed_at',
    'settle_by',
    'settled_at',
    'created_at',
    'updated_at',
  ]) {
    if (typeof row[k] === 'string') row[k] = new Date(row[k] as string);
  }
  for (const k of ['demand_amount_minor', 'settlement_amount_minor', 'settlement_refunded_minor']) {
    if (typeof row[k] === 'number') row[k] = String(row[k]);
  }
  return row as unknown as ComplaintRow;
}
