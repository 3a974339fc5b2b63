/*
 * Merchant e-mail through the outbox, spoken over real SMTP to a local receiver (smtp-server on
 * loopback): a new ticket, 24 hours before merchantRespondBy, an accepted offer waiting for its
 * refund, an escalation; in Chinese and English; retried after a failure; never twice.
 * The API and an in-process worker share a FakeClock: a test sets it to a boundary (a second
 * before: nothing; at it: the mail), then runs the worker's mail round once.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { OutboxRetentionService } from '../libs/complaints/src/outbox/outbox-retention.service';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { FakeClock } from './helpers/fake-clock';
import { startTestWorker, TestWorker } from './helpers/test-worker';
import { complaintBody, createReceipt } from './factories/complaint.factory';
import { createMerchant, createStore } from './factories/directory.factory';

interface Received {
  from: string;
  to: string[];
  raw: string;
  subject: string;
  text: string;
  messageId: string;
}

/** RFC 2047 encoded words (=?UTF-8?B?…?= / ?Q?) → text. */
function decodeWords(v: string): string {
  return v
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi, (_m, enc: string, data: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : Buffer.from(
            data
              .replace(/_/g, ' ')
              .replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    );
}

function parse(raw: string, from: string, to: string[]): Received {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const header = (name: string) =>
    new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(unfolded)?.[1]?.trim() ?? '';
  const body = rest.join('\n\n');
  const text =
    header('Content-Transfer-Encoding').toLowerCase() === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : body;
  return {
    from,
    to,
    raw,
    subject: decodeWords(header('Subject')),
    text,
    messageId: header('Message-ID'),
  };
}

describe('merchant e-mail over SMTP', () => {
  let t: TestApp;
  let smtp: SMTPServer;
  let inbox: Received[] = [];
  let refuseNext = 0;
  let worker: TestWorker;
  const clock = new FakeClock();
  let merchantId: string;
  let account: string;
  let staff: { Authorization: string };
  const contactEmail = `shop-${Date.now()}@example.test`;

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (refuseNext > 0) {
            refuseNext--;
            const err = new Error('mailbox busy, try later') as Error & { responseCode: number };
            err.responseCode = 451;
            return callback(err);
          }
          inbox.push(
            parse(
              Buffer.concat(chunks).toString('utf8'),
              session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              session.envelope.rcptTo.map((r) => r.address),
            ),
          );
          callback();
        });
      },
    });
    await new Promise<void>((ok) => smtp.listen(0, '127.0.0.1', ok));
    const port = (smtp.server.address() as AddressInfo).port;
    const mailEnv = {
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      MAIL_FROM: 'Hejie <noreply@hejie.test>',
    };
    t = await startTestApp({ RATE_LIMIT: '100000', ...mailEnv }, { clock });
    worker = await startTestWorker(clock, mailEnv);
    const merchant = await createMerchant(t, { contactEmail });
    merchantId = merchant.id;
    const store = await createStore(t, merchant.id, { regionCode: '330106' });
    account = store.paymentAccounts.find((a) => a.provider === 'sunmi-pos')!.accountId;
    staff = bearer(t.token({ role: 'merchant', sub: 'staff-mail', merchantId }));
  });
  // Each test starts now, the clock standing still until it moves it.
  beforeEach(() => clock.set(Date.now()));
  afterAll(async () => {
    await worker?.close();
    await t?.close();
    await new Promise<void>((ok) => smtp.close(() => ok()));
  });

  async function openTicket() {
    const receipt = await createReceipt(t, { accountId: account, amountMinor: 12250 });
    const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
    const res = await t.http
      .post('/v1/complaints')
      .set(consumer)
      .send(complaintBody(receipt.id, { demand: { type: 'refund', amountMinor: 12250 } }))
      .expect(201);
    return { id: res.body.id as string, number: res.body.number as string, consumer };
  }
  const mailsOf = (id: string) => inbox.filter((m) => m.messageId.includes(id));
  /** The worker's mail round, once: the reminders due by the clock, then every due mail. */
  const round = () => worker.mailRound();
  const respondBy = async (id: string): Promise<number> =>
    (
      await t.db.query('SELECT merchant_respond_by AS due FROM complaints WHERE id = $1', [id])
    )[0].due.getTime();
  const HOUR = 3600_000;

  it('a new ticket: one mail to contactEmail, in Chinese and English; re-running sends nothing more', async () => {
    inbox = [];
    const tk = await openTicket();
    await round();
    await round();
    const got = mailsOf(tk.id);
    expect(got).toHaveLength(1);
    expect(got[0].to).toEqual([contactEmail]);
    expect(got[0].from).toBe('noreply@hejie.test');
    expect(got[0].messageId).toBe(`<${tk.id}.new_ticket@hejie>`);
    expect(got[0].subject).toContain(`新投诉工单 ${tk.number}`);
    expect(got[0].subject).toContain(`New complaint ${tk.number}`);
    expect(got[0].text).toContain('请在');
    expect(got[0].text).toContain('Please answer by');
    expect(got[0].text).toContain('CNY 122.50');
  });

  it('24 hours before merchantRespondBy: one reminder, not a second earlier, never twice', async () => {
    inbox = [];
    const tk = await openTicket();
    await round(); // the new-ticket mail
    const due = await respondBy(tk.id);
    clock.set(due - 24 * HOUR - 1000);
    await round();
    expect(mailsOf(tk.id).map((m) => m.messageId)).toEqual([`<${tk.id}.new_ticket@hejie>`]);
    clock.set(due - 24 * HOUR);
    expect((await round()).reminders).toBeGreaterThanOrEqual(1);
    expect(mailsOf(tk.id).map((m) => m.messageId)).toEqual([
      `<${tk.id}.new_ticket@hejie>`,
      `<${tk.id}.respond_reminder@hejie>`,
    ]);
    clock.set(due - 2 * HOUR);
    await round();
    const reminders = mailsOf(tk.id).filter((m) => m.messageId.includes('respond_reminder'));
    expect(reminders).toHaveLength(1);
    expect(reminders[0].subject).toContain('24小时');
    expect(reminders[0].subject).toContain('due within 24 hours');
  });

  it('an accepted refund offer waiting for its refund, and an escalation, each mailed once', async () => {
    inbox = [];
    const tk = await openTicket();
    const offer = await t.http
      .post(`/v1/complaints/${tk.id}/offers`)
      .set(staff)
      .send({ type: 'partial_refund', amountMinor: 3000 })
      .expect(201);
    await t.http
      .post(`/v1/complaints/${tk.id}/offers/${offer.body.id}/accept`)
      .set(tk.consumer)
      .expect(200);
    await t.http
      .post(`/v1/complaints/${tk.id}/settlement/dispute`)
      .set(tk.consumer)
      .send({ reason: 'No refund arrived.' })
      .expect(200);
    await round();
    await round();
    const kinds = mailsOf(tk.id).map((m) => /\.(\w+)@hejie/.exec(m.messageId)?.[1]);
    expect(kinds.sort()).toEqual(['awaiting_refund', 'escalation', 'new_ticket']);
    const waiting = mailsOf(tk.id).find((m) => m.messageId.includes('awaiting_refund'))!;
    expect(waiting.text).toContain('CNY 30.00');
    expect(waiting.text).toContain('退款');
    expect(waiting.text).toContain('Refund by');
    const escalation = mailsOf(tk.id).find((m) => m.messageId.includes('escalation'))!;
    expect(escalation.text).toContain('settlement_not_fulfilled');
  });

  it('outbox retention keeps sent mails: they are what makes a mail go once', async () => {
    inbox = [];
    const tk = await openTicket();
    const due = await respondBy(tk.id);
    clock.set(due - 23 * HOUR);
    await round(); // the new-ticket mail and the reminder
    expect(mailsOf(tk.id)).toHaveLength(2);
    // Long after OUTBOX_RETENTION the purge runs: the done mail rows stay.
    clock.set(due + 30 * 24 * HOUR);
    await t.app.get(OutboxRetentionService, { strict: false }).purge();
    const [{ n }] = await t.db.query(
      `SELECT count(*)::int AS n FROM outbox WHERE topic = 'mail' AND complaint_id = $1`,
      [tk.id],
    );
    expect(n).toBe(2);
    // A reminder round inside the window again finds the reminder already there.
    clock.set(due - HOUR);
    await round();
    expect(mailsOf(tk.id)).toHaveLength(2);
  });

  it('a refused delivery is retried at its next attempt, not a second before, then sent once', async () => {
    await round(); // whatever else is due (other tests' tickets) goes first: the refusal is this one's
    inbox = [];
    refuseNext = 1;
    const tk = await openTicket();
    expect(await round()).toMatchObject({ claimed: 1, retrying: 1 });
    expect(mailsOf(tk.id)).toHaveLength(0);
    const [row] = await t.db.query(
      `SELECT state, attempts, last_error, next_attempt_at FROM outbox
        WHERE topic = 'mail' AND complaint_id = $1`,
      [tk.id],
    );
    expect(row).toMatchObject({ state: 'pending', attempts: 1 });
    expect(row.last_error).toMatch(/busy/);
    expect(row.next_attempt_at.getTime()).toBeGreaterThan(clock.now().getTime());
    clock.set(row.next_attempt_at.getTime() - 1000);
    await round(); // not due yet
    expect(mailsOf(tk.id)).toHaveLength(0);
    clock.set(row.next_attempt_at);
    await round();
    await round();
    expect(mailsOf(tk.id)).toHaveLength(1);
  });

  it('a merchant without contactEmail gets no mail queued', async () => {
    const other = await createMerchant(t);
    const store = await createStore(t, other.id, { regionCode: '330106' });
    const receipt = await createReceipt(t, {
      accountId: store.paymentAccounts.find((a) => a.provider === 'sunmi-pos')!.accountId,
    });
    const res = await t.http
      .post('/v1/complaints')
      .set(bearer(t.token({ role: 'consumer', sub: receipt.payerId })))
      .send(complaintBody(receipt.id))
      .expect(201);
    const [{ n }] = await t.db.query(
      `SELECT count(*)::int AS n FROM outbox WHERE topic = 'mail' AND complaint_id = $1`,
      [res.body.id],
    );
    expect(n).toBe(0);
  });
});
