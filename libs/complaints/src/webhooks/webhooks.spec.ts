import { createHmac } from 'node:crypto';
import { complaintRow } from '../complaint.row.testing';
import { nextEvent } from '../trail';
import { WEBHOOK_EVENTS, webhookPayload, webhookTypeOf } from './webhook-events';
import { signWebhook, verifyWebhookSignature, webhookRetryDelayMs } from './webhook-signature';

const SECRET = 'whsec_test-secret';
const AT = new Date('2026-11-23T10:00:00.000Z');

describe('webhook signature', () => {
  const body = '{"id":"d1","type":"complaint.created"}';

  it('is t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>', () => {
    const header = signWebhook(SECRET, body, AT);
    const t = AT.getTime() / 1000;
    const hex = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
    expect(header).toBe(`t=${t},v1=${hex}`);
  });

  it('verifies the same bytes with the same secret within the tolerance, nothing else', () => {
    const header = signWebhook(SECRET, body, AT);
    expect(verifyWebhookSignature(SECRET, body, header, AT)).toBe(true);
    expect(verifyWebhookSignature(SECRET, body, header, new Date(AT.getTime() + 299_000))).toBe(
      true,
    );
    expect(verifyWebhookSignature(SECRET, `${body} `, header, AT)).toBe(false);
    expect(verifyWebhookSignature('whsec_other', body, header, AT)).toBe(false);
    expect(verifyWebhookSignature(SECRET, body, header, new Date(AT.getTime() + 301_000))).toBe(
      false,
    );
    expect(verifyWebhookSignature(SECRET, body, undefined, AT)).toBe(false);
    expect(verifyWebhookSignature(SECRET, body, 't=1,v1=zz', AT)).toBe(false);
  });
});

describe('webhook retry delay', () => {
  it('doubles from the base after each failed attempt, up to the cap', () => {
    expect([1, 2, 3, 4].map((n) => webhookRetryDelayMs(n, 200, 3600_000))).toEqual([
      200, 400, 800, 1600,
    ]);
    expect(webhookRetryDelayMs(7, 10_000, 3600_000)).toBe(640_000);
    expect(webhookRetryDelayMs(12, 10_000, 3600_000)).toBe(3600_000);
    expect(webhookRetryDelayMs(100, 10_000, 3600_000)).toBe(3600_000);
  });
});

describe('which events a merchant is told about', () => {
  const ev = (type: string, role: string) => ({ type, actor: { role, id: 'x' } });

  it('a new ticket, every consumer action and a deadline escalation, by the table', () => {
    for (const rule of WEBHOOK_EVENTS)
      expect(webhookTypeOf(ev(rule.event, rule.by))).toBe(rule.type);
    expect(webhookTypeOf(ev('escalated', 'system'))).toBe('complaint.escalated');
  });

  it("never the merchant's own actions, nor a regulator's", () => {
    expect(webhookTypeOf(ev('message', 'merchant'))).toBeNull();
    expect(webhookTypeOf(ev('offer_made', 'merchant'))).toBeNull();
    expect(webhookTypeOf(ev('message', 'system'))).toBeNull();
    expect(webhookTypeOf(ev('message', 'regulator'))).toBeNull();
    expect(webhookTypeOf(ev('regulator_viewed', 'regulator'))).toBeNull();
    expect(webhookTypeOf(ev('attachment_added', 'merchant'))).toBeNull();
    expect(webhookTypeOf(ev('attachment_added', 'regulator'))).toBeNull();
    expect(webhookTypeOf(ev('attachment_added', 'consumer'))).toBe('complaint.attachment_added');
  });
});

describe('webhook payload', () => {
  it("is the merchant's view of the ticket: the phone masked, never in clear", () => {
    const row = complaintRow(AT, {
      contact_phone_enc: 'v1.sealed',
      contact_phone_masked: '138****5678',
    });
    const event = nextEvent(
      { event_count: 0, head_hash: null },
      'created',
      { role: 'consumer', id: 'alipay:2088' },
      AT,
      {
        contactPhoneGiven: true,
      },
    );
    const p = webhookPayload('d1', 'complaint.created', row, event, Buffer.alloc(32));
    expect(p).toMatchObject({
      id: 'd1',
      type: 'complaint.created',
      occurredAt: AT.toISOString(),
      eventSeq: 1,
      complaint: { id: row.id, number: 'HJ-261123-000001', contactPhone: '138****5678' },
      data: { contactPhoneGiven: true },
    });
    expect(p.complaint).not.toHaveProperty('serialComplainant');
  });
});
