import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createMerchant, createStore } from './factories/directory.factory';
import { createReceipt } from './factories/complaint.factory';
import { FakeClock } from './helpers/fake-clock';
import { startTestWorker, TestWorker } from './helpers/test-worker';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  /** The receiver had already processed this delivery id (a duplicate it must ignore). */
  duplicate: boolean;
  /** When it arrived, by the receiver's clock. */
  receivedAt: Date;
}

/**
 * A merchant's endpoint on 127.0.0.1: `/flaky` answers 500 to the first two attempts of each
 * delivery and 204 from then on; `/down` always answers 500. Like a real receiver it records
 * which delivery ids it processed, so a duplicate would show.
 */
async function startReceiver(now: () => Date) {
  const requests: Received[] = [];
  const attempts = new Map<string, number>();
  const processed = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const delivery = String(req.headers['x-hejie-delivery']);
      const nth = (attempts.get(delivery) ?? 0) + 1;
      attempts.set(delivery, nth);
      const status = req.url === '/flaky' && nth > 2 ? 204 : 500;
      const duplicate = status === 204 && processed.has(delivery);
      if (status === 204) processed.add(delivery);
      requests.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status,
        duplicate,
        receivedAt: now(),
      });
      res.statusCode = status;
      res.end(status === 500 ? 'receiver down, try later' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/**
 * The receiver's check, written from the documentation (not with the server's own code), when
 * the request arrived by the receiver's clock (the test's, shared with the API and the worker).
 */
function signatureValid(secret: string, r: Received): boolean {
  const header = String(r.headers['x-hejie-signature'] ?? '');
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  if (Math.abs(r.receivedAt.getTime() / 1000 - Number(m[1])) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${r.body}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2], 'hex'));
}

const ofType = (receiver: Receiver, type: string, complaintId: string) =>
  receiver.requests.filter(
    (r) => r.headers['x-hejie-event'] === type && JSON.parse(r.body).complaint.id === complaintId,
  );

async function shop(t: TestApp, webhookUrl: string) {
  const created = await createMerchant(t, { webhookUrl });
  // The factory types the common fields; the 201 also carries the secret, this once.
  const merchant = created as typeof created & { webhookSecret: string };
  const store = await createStore(t, merchant.id);
  const accountId = store.paymentAccounts.find((a) => a.provider === 'sunmi-pos')!.accountId;
  const staff = bearer(t.token({ role: 'merchant', sub: 'staff-1', merchantId: merchant.id }));
  return { merchant, accountId, staff };
}

async function openTicket(t: TestApp, accountId: string) {
  const receipt = await createReceipt(t, { accountId });
  const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
  const res = await t.http
    .post('/v1/complaints')
    .set(consumer)
    .send({
      receiptId: receipt.id,
      category: 'quality',
      demand: { type: 'repair' },
      description: 'The kettle stopped heating after a week.',
      contactPhone: '13812345678',
    })
    .expect(201);
  return { ticket: res.body as { id: string; number: string }, consumer };
}

describe('merchant webhooks (the worker on a fake clock, real HTTP receiver)', () => {
  // The API and the worker (in this process) share one clock; a test runs delivery rounds and
  // moves the clock past each retry's backoff in between, instead of waiting for it.
  const clock = new FakeClock();
  let t: TestApp;
  let receiver: Receiver;
  let worker: TestWorker;
  const admin = () => bearer(t.token({ role: 'admin' }));
  /** Delivery rounds, the clock moved past the longest backoff (2 × 200 ms) before each. */
  async function rounds(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      clock.advance('1s');
      await worker.deliverWebhooks();
    }
  }

  beforeAll(async () => {
    // The receivers are http://127.0.0.1: development/test mode for the API and the worker.
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' }, { clock });
    receiver = await startReceiver(() => clock.now());
    // The worker inherits this app's PII_KEY (startTestApp put it in process.env): it can open
    // the signing secrets the API sealed.
    worker = await startTestWorker(clock, {
      WEBHOOK_BACKOFF: '200ms',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_TIMEOUT: '2s',
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await receiver?.close();
    await t?.close();
  });

  describe('a merchant whose endpoint fails twice, then accepts', () => {
    let m: Awaited<ReturnType<typeof shop>>;
    let opened: Awaited<ReturnType<typeof openTicket>>;

    // Each test its own merchant and ticket: they pass in any order (jest --randomize).
    beforeEach(async () => {
      m = await shop(t, `${receiver.url}/flaky`);
      opened = await openTicket(t, m.accountId);
    });

    it('gets complaint.created after two retries, delivered once, signed with the secret from the 201', async () => {
      const { ticket } = opened;
      const done = () => ofType(receiver, 'complaint.created', ticket.id);
      // Round by round: 500, then 500 after the first backoff, then 204 after the second.
      for (const expected of [[500], [500, 500], [500, 500, 204]]) {
        await rounds(1);
        expect(done().map((r) => r.status)).toEqual(expected);
      }
      // Nothing follows a success, however long after.
      clock.advance('2h');
      await rounds(1);
      const attempts = done();
      expect(attempts.map((r) => r.status)).toEqual([500, 500, 204]);
      expect(attempts.filter((r) => r.duplicate)).toEqual([]);
      const ids = new Set(attempts.map((r) => r.headers['x-hejie-delivery']));
      expect(ids.size).toBe(1);
      // Every attempt sends the same bytes, each signed afresh.
      expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
      for (const r of attempts) {
        expect(signatureValid(m.merchant.webhookSecret, r)).toBe(true);
        expect(r.headers['content-type']).toMatch(/^application\/json/);
      }
      expect(signatureValid('whsec_not-the-secret', attempts[0])).toBe(false);

      const body = JSON.parse(attempts[2].body);
      expect(body).toMatchObject({
        id: attempts[2].headers['x-hejie-delivery'],
        type: 'complaint.created',
        eventSeq: 1,
        complaint: {
          id: ticket.id,
          number: ticket.number,
          status: 'awaiting_merchant',
          merchantId: m.merchant.id,
          contactPhone: '138****5678',
        },
      });
      expect(Number.isNaN(Date.parse(body.occurredAt))).toBe(false);
      expect(attempts[2].body).not.toContain('13812345678');

      const list = await t.http
        .get(`/v1/merchants/${m.merchant.id}/webhook-deliveries`)
        .set(m.staff)
        .expect(200);
      expect(list.body.items).toEqual([
        expect.objectContaining({
          id: body.id,
          complaintId: ticket.id,
          type: 'complaint.created',
          state: 'done',
          attempts: 3,
          // Generic: never the receiver's bytes.
          lastError: 'HTTP 500',
          nextAttemptAt: null,
          deliveredAt: expect.any(String),
        }),
      ]);
    }, 30_000);

    it("a consumer message → complaint.message; the merchant's own message and offer → nothing", async () => {
      const { ticket, consumer } = opened;
      await t.http
        .post(`/v1/complaints/${ticket.id}/messages`)
        .set(m.staff)
        .send({ body: 'Merchant here: please send us a photo.' })
        .expect(201);
      await t.http
        .post(`/v1/complaints/${ticket.id}/offers`)
        .set(m.staff)
        .send({ type: 'repair', note: 'free repair' })
        .expect(201);
      await t.http
        .post(`/v1/complaints/${ticket.id}/messages`)
        .set(consumer)
        .send({ body: 'Consumer here: photo attached.' })
        .expect(201);

      await rounds(3); // the flaky endpoint takes the third attempt
      const delivered = ofType(receiver, 'complaint.message', ticket.id).filter(
        (r) => r.status === 204,
      );
      expect(delivered).toHaveLength(1);
      const body = JSON.parse(delivered[0].body);
      expect(body).toMatchObject({
        type: 'complaint.message',
        eventSeq: 4,
        complaint: { id: ticket.id, status: 'in_negotiation' },
        data: { body: 'Consumer here: photo attached.' },
      });
      expect(signatureValid(m.merchant.webhookSecret, delivered[0])).toBe(true);

      // Nothing was ever queued or sent for the merchant's own actions.
      expect(receiver.requests.filter((r) => r.body.includes('Merchant here'))).toEqual([]);
      const rows = await t.db.query(
        'SELECT event_seq, type FROM webhook_deliveries WHERE complaint_id = $1 ORDER BY event_seq',
        [ticket.id],
      );
      expect(rows).toEqual([
        { event_seq: 1, type: 'complaint.created' },
        { event_seq: 4, type: 'complaint.message' },
      ]);
    }, 30_000);

    it('a rotated secret signs the next deliveries; the old one no longer verifies', async () => {
      await t.http.post(`/v1/merchants/${m.merchant.id}/webhook-secret`).set(m.staff).expect(403);
      const rotated = await t.http
        .post(`/v1/merchants/${m.merchant.id}/webhook-secret`)
        .set(admin())
        .expect(200);
      const secret: string = rotated.body.webhookSecret;
      expect(secret).toMatch(/^whsec_/);
      expect(secret).not.toBe(m.merchant.webhookSecret);

      const { ticket, consumer } = opened;
      await t.http
        .post(`/v1/complaints/${ticket.id}/withdraw`)
        .set(consumer)
        .send({ reason: 'Sorted it out in the shop.' })
        .expect(200);
      await rounds(3);
      const [delivered] = ofType(receiver, 'complaint.withdrawn', ticket.id).filter(
        (r) => r.status === 204,
      );
      expect(signatureValid(secret, delivered)).toBe(true);
      expect(signatureValid(m.merchant.webhookSecret, delivered)).toBe(false);
      expect(JSON.parse(delivered.body).complaint.status).toBe('withdrawn');
    }, 30_000);

    it('the secret never appears in GET /v1/merchants/:id nor in the list, and is sealed at rest', async () => {
      for (const who of [admin(), m.staff]) {
        const res = await t.http.get(`/v1/merchants/${m.merchant.id}`).set(who).expect(200);
        expect(res.body).not.toHaveProperty('webhookSecret');
        expect(JSON.stringify(res.body)).not.toContain('whsec_');
      }
      const list = await t.http.get('/v1/merchants?limit=100').set(admin()).expect(200);
      expect(JSON.stringify(list.body)).not.toContain('whsec_');
      const [row] = await t.db.query('SELECT webhook_secret FROM merchants WHERE id = $1', [
        m.merchant.id,
      ]);
      expect(row.webhook_secret).toMatch(/^v2\./);
      expect(row.webhook_secret).not.toContain('whsec_');
    });
  });

  describe('a merchant whose endpoint is down', () => {
    it('dead-letters after WEBHOOK_MAX_ATTEMPTS, shows it to the merchant, and re-queues it on retry', async () => {
      const m = await shop(t, `${receiver.url}/down`);
      const { ticket } = await openTicket(t, m.accountId);
      // And a delivery that succeeds meanwhile (the flaky endpoint's third attempt).
      const ok = await shop(t, `${receiver.url}/flaky`);
      await openTicket(t, ok.accountId);
      const deadList = () =>
        t.http
          .get(`/v1/merchants/${m.merchant.id}/webhook-deliveries?state=dead`)
          .set(m.staff)
          .then((r) => r.body.items as Record<string, unknown>[]);
      await rounds(2);
      expect(await deadList()).toEqual([]); // two attempts of three: still pending
      await rounds(1);
      const dead = await deadList();
      expect(dead).toEqual([
        expect.objectContaining({
          complaintId: ticket.id,
          type: 'complaint.created',
          state: 'dead',
          attempts: 3,
          // Generic: never the receiver's bytes.
          lastError: 'HTTP 500',
          nextAttemptAt: null,
          deliveredAt: null,
        }),
      ]);
      const deliveryId = dead[0].id as string;
      const tries = () =>
        receiver.requests.filter((r) => r.headers['x-hejie-delivery'] === deliveryId);
      expect(tries()).toHaveLength(3);
      expect(worker.log()).toContain(
        `webhook delivery ${deliveryId} (complaint.created) to merchant ${m.merchant.id} is dead after 3 attempts: HTTP 500`,
      );
      // A dead delivery stays dead: no further attempts, however long after.
      clock.advance('2h');
      await rounds(1);
      expect(tries()).toHaveLength(3);
      const pending = await t.http
        .get(`/v1/merchants/${m.merchant.id}/webhook-deliveries?state=pending`)
        .set(m.staff)
        .expect(200);
      expect(pending.body.items).toEqual([]);

      const retried = await t.http
        .post(`/v1/merchants/${m.merchant.id}/webhook-deliveries/${deliveryId}/retry`)
        .set(m.staff)
        .expect(200);
      expect(retried.body).toMatchObject({ id: deliveryId, state: 'pending', attempts: 0 });
      expect(retried.body.nextAttemptAt).toEqual(expect.any(String));

      // Same delivery, same body, a fresh budget of attempts, then dead again.
      await rounds(3);
      const again = await deadList();
      expect(again[0]).toMatchObject({ id: deliveryId, state: 'dead', attempts: 3 });
      expect(tries()).toHaveLength(6);
      expect(new Set(tries().map((r) => r.body)).size).toBe(1);

      // Only a dead delivery can be retried.
      const done = await t.db.query(
        `SELECT id, merchant_id FROM webhook_deliveries WHERE state = 'done' AND merchant_id = $1`,
        [ok.merchant.id],
      );
      expect(done).toHaveLength(1);
      await t.http
        .post(`/v1/merchants/${done[0].merchant_id}/webhook-deliveries/${done[0].id}/retry`)
        .set(admin())
        .expect(409)
        .expect((r) => expect(r.body.code).toBe('INVALID_TRANSITION'));
    }, 60_000);
  });

  describe("a consumer's evidence", () => {
    it('complaint.attachment_added carries the id, type, size and sha256 — not the bytes, not a link; the merchant’s own upload is not echoed', async () => {
      const m = await shop(t, `${receiver.url}/flaky`);
      const { ticket, consumer } = await openTicket(t, m.accountId);
      // A file whose bytes would show in the payload if they were ever put there.
      const marker = 'EVIDENCE-BYTES-MARKER';
      const pdf = Buffer.from(
        `%PDF-1.4\n% ${marker}\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n`,
      );
      const up = await t.http
        .post(`/v1/complaints/${ticket.id}/attachments`)
        .set(consumer)
        .attach('file', pdf, 'receipt.pdf')
        .expect(201);
      await t.http
        .post(`/v1/complaints/${ticket.id}/attachments`)
        .set(m.staff)
        .attach('file', pdf, 'merchant-reply.pdf')
        .expect(201);

      // /flaky answers 500 to the first two attempts of each delivery, and a ticket's deliveries
      // go in order (complaint.created first): delivery rounds until this one lands.
      for (let i = 0; i < 10; i++) {
        if (ofType(receiver, 'complaint.attachment_added', ticket.id).some((r) => r.status === 204))
          break;
        await rounds(1);
      }
      const [delivered] = ofType(receiver, 'complaint.attachment_added', ticket.id).filter(
        (r) => r.status === 204,
      );
      expect(signatureValid(m.merchant.webhookSecret, delivered)).toBe(true);
      const body = JSON.parse(delivered.body);
      expect(body).toMatchObject({
        type: 'complaint.attachment_added',
        eventSeq: 2,
        complaint: { id: ticket.id },
        data: {
          attachmentId: up.body.id,
          contentType: 'application/pdf',
          size: pdf.length,
          sha256: createHash('sha256').update(pdf).digest('hex'),
        },
      });
      expect(delivered.body).not.toContain(marker);
      expect(delivered.body).not.toContain(pdf.toString('base64').slice(0, 24));
      expect(delivered.body).not.toMatch(/https?:\/\/|token|attachments\//i);
      // Only the consumer's upload was queued (the merchant's own is not echoed back).
      const rows = await t.db.query(
        'SELECT event_seq, type FROM webhook_deliveries WHERE complaint_id = $1 ORDER BY event_seq',
        [ticket.id],
      );
      expect(rows).toEqual([
        { event_seq: 1, type: 'complaint.created' },
        { event_seq: 2, type: 'complaint.attachment_added' },
      ]);
    }, 30_000);
  });

  describe('who sees the deliveries', () => {
    it('merchant staff of that merchant and admins; other merchants 404; other roles 403', async () => {
      const m = await shop(t, `${receiver.url}/flaky`);
      const other = await shop(t, `${receiver.url}/flaky`);
      const path = `/v1/merchants/${m.merchant.id}/webhook-deliveries`;
      await t.http.get(path).set(m.staff).expect(200);
      await t.http.get(path).set(admin()).expect(200);
      await t.http
        .get(path)
        .set(other.staff)
        .expect(404)
        .expect((r) => expect(r.body.code).toBe('NOT_FOUND'));
      await t.http
        .post(`${path}/00000000-0000-4000-8000-000000000000/retry`)
        .set(other.staff)
        .expect(404);
      await t.http
        .post(`${path}/00000000-0000-4000-8000-000000000000/retry`)
        .set(m.staff)
        .expect(404);
      await t.http
        .get(path)
        .set(bearer(t.token({ role: 'consumer', sub: 'alipay:2088' })))
        .expect(403);
      await t.http
        .get(path)
        .set(bearer(t.token({ role: 'regulator', sub: 'officer', officeId: m.merchant.id })))
        .expect(403);
      await t.http.get(path).expect(401);
      await t.http
        .get('/v1/merchants/00000000-0000-4000-8000-000000000000/webhook-deliveries')
        .set(admin())
        .expect(404);
      await t.http
        .get(`${path}?state=lost`)
        .set(m.staff)
        .expect(400)
        .expect((r) => expect(r.body.code).toBe('VALIDATION_FAILED'));
      await t.http.get(`${path}?cursor=bm9wZQ`).set(m.staff).expect(400);
    });

    it('pages newest first with an opaque cursor', async () => {
      const m = await shop(t, `${receiver.url}/flaky`);
      const tickets = [];
      for (let i = 0; i < 3; i++) {
        clock.advance('1s'); // one after the other (the clock stands still otherwise)
        tickets.push((await openTicket(t, m.accountId)).ticket.id);
      }
      const path = `/v1/merchants/${m.merchant.id}/webhook-deliveries`;
      const first = await t.http.get(`${path}?limit=2`).set(m.staff).expect(200);
      expect(first.body.items.map((d: { complaintId: string }) => d.complaintId)).toEqual([
        tickets[2],
        tickets[1],
      ]);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await t.http
        .get(`${path}?limit=2&cursor=${first.body.nextCursor}`)
        .set(m.staff)
        .expect(200);
      expect(second.body).toEqual({
        items: [expect.objectContaining({ complaintId: tickets[0] })],
        nextCursor: null,
      });
    });
  });
});
