import { createCipheriv, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import {
  INTERRUPTED_ATTEMPT,
  OutboxRetentionService,
  WebhookHttp,
  WebhooksService,
  readAtMost,
} from '../libs/complaints/src';
import { assertWebhookUrlAllowed, systemResolver } from '../libs/directory/src';
import type { WebhookResolver } from '../libs/directory/src';
import { HEJIE_CONFIG, openFor } from '../libs/shared/src';
import type { Clock, HejieConfig } from '../libs/shared/src';
import { SealPerPurpose1764700320000 } from '../migrations/1764700320000-SealPerPurpose';
import { ScrubWebhookErrors1764700330000 } from '../migrations/1764700330000-ScrubWebhookErrors';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createMerchant, createStore, newCreditCode } from './factories/directory.factory';
import { createReceipt } from './factories/complaint.factory';
import { waitFor } from './helpers/worker-process';
import { HostileReceiver, startHostileReceiver } from './helpers/hostile-receivers';

const clockAt = (at: () => Date): Clock => ({ now: at });

/** The resolver answers the given addresses for any name, in turn (the last one repeats). */
function rebinding(...answers: string[][]): WebhookResolver & { calls: number } {
  const r = Object.assign(
    async () => {
      const a = answers[Math.min(r.calls++, answers.length - 1)];
      return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
    { calls: 0 },
  );
  return r;
}

describe('webhook HTTP client (undici, pinned lookup, bounded answers)', () => {
  const receivers: HostileReceiver[] = [];
  const clients: WebhookHttp[] = [];
  const client = (o: Partial<ConstructorParameters<typeof WebhookHttp>[0]> = {}) => {
    const c = new WebhookHttp({
      resolve: systemResolver,
      allowPrivate: true,
      timeoutMs: 1500,
      ...o,
    });
    clients.push(c);
    return c;
  };
  const receiver = async (kind: Parameters<typeof startHostileReceiver>[0]) => {
    const r = await startHostileReceiver(kind);
    receivers.push(r);
    return r;
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('a gzip bomb: "HTTP 500" at once, nothing inflated, identity asked for', async () => {
    const bomb = await receiver('bomb');
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    expect(await client().post(bomb.url, '{}', {})).toBe('HTTP 500');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * 1024 * 1024);
    expect(bomb.requests[0].headers['accept-encoding']).toBe('identity');
  }, 60_000);

  it('reads at most 1 KiB of an answer, then destroys the stream', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 16 * 1024;
        this.push(Buffer.alloc(16 * 1024, 0x41));
      },
    });
    const got = await readAtMost(endless, 1024);
    expect(got.length).toBe(1024);
    expect(endless.destroyed).toBe(true);
    expect(produced).toBeLessThanOrEqual(5 * 16 * 1024);
  });

  it('a stalled body or a silent receiver: "timeout" within WEBHOOK_TIMEOUT (the body included)', async () => {
    for (const kind of ['stall', 'silent'] as const) {
      const r = await receiver(kind);
      const started = Date.now();
      expect(await client().post(r.url, '{}', {})).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(3000);
    }
  });

  it('generic reasons, never the receiver’s bytes', async () => {
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/redirect' ? 302 : 503;
      if (req.url === '/redirect') res.setHeader('location', 'http://169.254.169.254/');
      res.end('redis_version:7.0.15\r\nsecret internal answer');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await client().post(`http://127.0.0.1:${port}/x`, '{}', {})).toBe('HTTP 503');
      expect(await client().post(`http://127.0.0.1:${port}/redirect`, '{}', {})).toBe('HTTP 302');
    } finally {
      server.closeAllConnections();
      server.close();
    }
    const closed = await receiver('ok');
    const url = closed.url;
    await closed.close();
    expect(await client().post(url, '{}', {})).toBe('connection refused');
  });

  it('the address dialled is the address checked: a name resolving to loopback is refused unconnected', async () => {
    const ok = await receiver('ok');
    const inside = rebinding(['127.0.0.1']);
    const url = `https://hooks.merchant.test:${ok.port}/hook`;
    expect(await client({ resolve: inside, allowPrivate: false }).post(url, '{}', {})).toBe(
      'address not allowed',
    );
    for (const mapped of [
      ['::ffff:127.0.0.1'],
      ['93.184.215.14', '10.0.0.1'],
      ['169.254.169.254'],
    ]) {
      expect(
        await client({ resolve: rebinding(mapped), allowPrivate: false }).post(url, '{}', {}),
      ).toBe('address not allowed');
    }
    expect(ok.requests).toHaveLength(0);
    // The same name through the pinned lookup, allowed: the request reaches exactly that address
    // (the system resolver does not know the name at all).
    const allowed = client({ resolve: inside, allowPrivate: true });
    expect(await allowed.post(`http://hooks.merchant.test:${ok.port}/hook`, '{}', {})).toBeNull();
    expect(ok.requests).toHaveLength(1);
  });

  it('DNS rebinding: public when the URL is set, loopback at delivery → refused at delivery', async () => {
    const ok = await receiver('ok');
    const dns = rebinding(['93.184.215.14'], ['127.0.0.1']);
    const url = `https://rebind.merchant.test:${ok.port}/hook`;
    await expect(
      assertWebhookUrlAllowed(url, { allowPrivate: false, resolve: dns }),
    ).resolves.toBeUndefined();
    expect(await client({ resolve: dns, allowPrivate: false }).post(url, '{}', {})).toBe(
      'address not allowed',
    );
    expect(ok.requests).toHaveLength(0);
  });

  it('IP literals and http:// are checked at delivery too (no lookup happens for them)', async () => {
    const ok = await receiver('ok');
    const strict = client({ allowPrivate: false });
    expect(await strict.post(ok.url, '{}', {})).toBe('URL not allowed (https only)');
    expect(await strict.post(`https://127.0.0.1:${ok.port}/hook`, '{}', {})).toBe(
      'address not allowed',
    );
    expect(await strict.post(`https://[::ffff:7f00:1]:${ok.port}/hook`, '{}', {})).toBe(
      'address not allowed',
    );
    expect(ok.requests).toHaveLength(0);
  });
});

describe('webhooks, merchants, trail and retention (API, database)', () => {
  let t: TestApp;
  let config: HejieConfig;
  const admin = () => bearer(t.token({ role: 'admin' }));

  beforeAll(async () => {
    // Production rules: https and public addresses only.
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'false', WEBHOOK_MANUAL_RETRIES: '3' });
    config = t.app.get<HejieConfig>(HEJIE_CONFIG, { strict: false });
  });
  afterAll(() => t.close());

  async function ticketFor(merchantId: string, contactPhone?: string) {
    const store = await createStore(t, merchantId);
    const accountId = store.paymentAccounts.find((a) => a.provider === 'sunmi-pos')!.accountId;
    const receipt = await createReceipt(t, { accountId });
    const res = await t.http
      .post('/v1/complaints')
      .set(bearer(t.token({ role: 'consumer', sub: receipt.payerId })))
      .send({
        receiptId: receipt.id,
        category: 'quality',
        demand: { type: 'repair' },
        description: 'The kettle stopped heating after a week.',
        ...(contactPhone ? { contactPhone } : {}),
      })
      .expect(201);
    return res.body.id as string;
  }

  /** A merchant whose URL was stored before the rules (or in development): set in SQL. */
  async function hookedTicket(url: string) {
    const merchant = await createMerchant(t);
    await t.db.query('UPDATE merchants SET webhook_url = $2 WHERE id = $1', [merchant.id, url]);
    const ticketId = await ticketFor(merchant.id);
    const [delivery] = await t.db.query(
      'SELECT id FROM webhook_deliveries WHERE complaint_id = $1',
      [ticketId],
    );
    return { merchantId: merchant.id, ticketId, deliveryId: delivery.id as string };
  }

  const deliveryRow = async (id: string) =>
    (
      await t.db.query(
        'SELECT state, attempts, last_error, next_attempt_at FROM webhook_deliveries WHERE id = $1',
        [id],
      )
    )[0];

  describe('POST and PATCH /v1/merchants: the webhook URL rules', () => {
    const forbidden = [
      'http://93.184.215.14/hook',
      'https://127.0.0.1/hook',
      'https://[::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://10.0.0.1/hook',
      'https://192.168.1.20/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://100.100.100.200/latest/meta-data/',
      'https://[fd00:ec2::254]/hook',
      'https://unresolvable.invalid/hook',
    ];

    it('POST: 422 WEBHOOK_URL_FORBIDDEN, nothing written', async () => {
      for (const webhookUrl of forbidden) {
        const creditCode = newCreditCode();
        const res = await t.http
          .post('/v1/merchants')
          .set(admin())
          .send({ name: 'SSRF probe', creditCode, webhookUrl })
          .expect(422);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ status: 422, code: 'WEBHOOK_URL_FORBIDDEN' });
        const rows = await t.db.query('SELECT 1 FROM merchants WHERE credit_code = $1', [
          creditCode,
        ]);
        expect(rows).toEqual([]);
      }
    });

    it('PATCH: admin or the merchant’s own staff; others 404/403/401; null removes', async () => {
      const m = await createMerchant(t);
      const other = await createMerchant(t);
      const path = `/v1/merchants/${m.id}`;
      const staff = bearer(t.token({ role: 'merchant', sub: 's1', merchantId: m.id }));
      const res = await t.http
        .patch(path)
        .set(admin())
        .send({ webhookUrl: 'https://93.184.215.14/hooks/hejie', contactEmail: 'ops@tea.example' })
        .expect(200);
      expect(res.body).toMatchObject({
        id: m.id,
        webhookUrl: 'https://93.184.215.14/hooks/hejie',
        contactEmail: 'ops@tea.example',
      });
      expect(res.body).not.toHaveProperty('webhookSecret');
      const own = await t.http
        .patch(path)
        .set(staff)
        .send({ contactEmail: 'new@tea.example' })
        .expect(200);
      expect(own.body).toMatchObject({
        webhookUrl: 'https://93.184.215.14/hooks/hejie',
        contactEmail: 'new@tea.example',
      });
      const removed = await t.http.patch(path).set(staff).send({ webhookUrl: null }).expect(200);
      expect(removed.body).toMatchObject({ webhookUrl: null, contactEmail: 'new@tea.example' });

      const stranger = bearer(t.token({ role: 'merchant', sub: 's2', merchantId: other.id }));
      await t.http
        .patch(path)
        .set(stranger)
        .send({ contactEmail: 'x@y.example' })
        .expect(404)
        .expect((r) => expect(r.body.code).toBe('NOT_FOUND'));
      await t.http
        .patch(path)
        .set(bearer(t.token({ role: 'consumer', sub: 'alipay:2088' })))
        .send({ contactEmail: 'x@y.example' })
        .expect(403);
      await t.http.patch(path).send({ contactEmail: 'x@y.example' }).expect(401);
      await t.http
        .patch('/v1/merchants/00000000-0000-4000-8000-000000000000')
        .set(admin())
        .send({ contactEmail: 'x@y.example' })
        .expect(404);
      for (const body of [
        { name: 'renamed' },
        { webhookUrl: 'not a url' },
        { contactEmail: 'nope' },
      ]) {
        await t.http
          .patch(path)
          .set(admin())
          .send(body)
          .expect(400)
          .expect((r) => expect(r.body.code).toBe('VALIDATION_FAILED'));
      }
      const [row] = await t.db.query('SELECT contact_email FROM merchants WHERE id = $1', [m.id]);
      expect(row.contact_email).toBe('new@tea.example');
    });

    it('PATCH: the same address rules (422), the stored URL unchanged', async () => {
      const m = await createMerchant(t, { webhookUrl: 'https://93.184.215.14/ok' });
      const staff = bearer(t.token({ role: 'merchant', sub: 's1', merchantId: m.id }));
      for (const webhookUrl of forbidden) {
        await t.http
          .patch(`/v1/merchants/${m.id}`)
          .set(staff)
          .send({ webhookUrl })
          .expect(422)
          .expect((r) => expect(r.body.code).toBe('WEBHOOK_URL_FORBIDDEN'));
      }
      const [row] = await t.db.query('SELECT webhook_url FROM merchants WHERE id = $1', [m.id]);
      expect(row.webhook_url).toBe('https://93.184.215.14/ok');
    });
  });

  describe('deliveries', () => {
    let silent: HostileReceiver;
    let ok: HostileReceiver;
    beforeAll(async () => {
      silent = await startHostileReceiver('silent');
      ok = await startHostileReceiver('ok');
    });
    afterAll(async () => {
      await silent.close();
      await ok.close();
    });

    const service = (overrides: Partial<HejieConfig>, clock: Clock = clockAt(() => new Date())) =>
      new WebhooksService(t.db, { ...config, ...overrides }, clock, systemResolver);

    it('the attempt is counted when the delivery is claimed, before the receiver answers', async () => {
      const d = await hookedTicket(silent.url);
      const s = service({ webhookAllowPrivate: true, webhookTimeoutMs: 1500 });
      try {
        const round = s.deliverDue(50);
        const during = await waitFor(
          () => deliveryRow(d.deliveryId),
          () => silent.requests.length > 0,
          5000,
          20,
        );
        expect(silent.requests).toHaveLength(1);
        expect(during).toMatchObject({ state: 'pending', attempts: 1, last_error: null });
        await round;
        expect(await deliveryRow(d.deliveryId)).toMatchObject({
          state: 'pending',
          attempts: 1,
          last_error: 'timeout',
        });
      } finally {
        await s.onModuleDestroy();
      }
    });

    it('an attempt cut short (the worker died) uses up the budget: no attempt left → dead, not sent again', async () => {
      const d = await hookedTicket(ok.url);
      // As a worker leaves it when it dies mid-request: attempt counted, lease ended, no result.
      await t.db.query(
        `UPDATE webhook_deliveries SET attempts = 2, next_attempt_at = now() - interval '1 second' WHERE id = $1`,
        [d.deliveryId],
      );
      const s = service({ webhookAllowPrivate: true, webhookMaxAttempts: 2 });
      try {
        await s.deliverDue(50);
      } finally {
        await s.onModuleDestroy();
      }
      expect(await deliveryRow(d.deliveryId)).toMatchObject({
        state: 'dead',
        attempts: 2,
        last_error: INTERRUPTED_ATTEMPT,
      });
      expect(ok.requests).toHaveLength(0);
    });

    it('a URL stored before the rules is checked again at delivery: refused, never dialled', async () => {
      const d = await hookedTicket(`https://127.0.0.1:${ok.port}/hook`);
      const s = service({ webhookAllowPrivate: false });
      try {
        await s.deliverDue(50);
      } finally {
        await s.onModuleDestroy();
      }
      expect(await deliveryRow(d.deliveryId)).toMatchObject({
        state: 'pending',
        attempts: 1,
        last_error: 'address not allowed',
      });
      expect(ok.requests).toHaveLength(0);
    });

    it('manual retries: WEBHOOK_MANUAL_RETRIES per delivery per 24 h, then 429 with Retry-After', async () => {
      const d = await hookedTicket('https://93.184.215.14/hook');
      const staff = bearer(t.token({ role: 'merchant', sub: 's1', merchantId: d.merchantId }));
      const kill = () =>
        t.db.query(`UPDATE webhook_deliveries SET state = 'dead', attempts = 8 WHERE id = $1`, [
          d.deliveryId,
        ]);
      const retry = () =>
        t.http
          .post(`/v1/merchants/${d.merchantId}/webhook-deliveries/${d.deliveryId}/retry`)
          .set(staff);
      for (let i = 0; i < 3; i++) {
        await kill();
        await retry().expect(200);
      }
      await kill();
      const limited = await retry().expect(429);
      expect(limited.body).toMatchObject({ code: 'RATE_LIMITED' });
      const after = Number(limited.headers['retry-after']);
      expect(after).toBeGreaterThan(23 * 3600);
      expect(after).toBeLessThanOrEqual(24 * 3600);
      expect((await deliveryRow(d.deliveryId)).state).toBe('dead');
      // The window is rolling: a day later the merchant may retry again.
      await t.db.query(
        `UPDATE webhook_deliveries SET manual_retry_window_at = manual_retry_window_at - interval '24 hours 1 second' WHERE id = $1`,
        [d.deliveryId],
      );
      await retry().expect(200);
    });
  });

  it("the migration reduces stored lastError texts (receivers' bytes) to generic reasons", async () => {
    const d = await hookedTicket('https://93.184.215.14/hook');
    const cases: [string, string][] = [
      ['HTTP 500: redis_version:7.0.15 secret internal answer', 'HTTP 500'],
      ['HTTP 404', 'HTTP 404'],
      ['no answer within 5000 ms', 'timeout'],
      ['request failed: ECONNREFUSED', 'request failed'],
      [
        'the signing secret cannot be opened: rotate it',
        'the signing secret cannot be opened: rotate it',
      ],
    ];
    for (const [stored, scrubbed] of cases) {
      await t.db.query('UPDATE webhook_deliveries SET last_error = $2 WHERE id = $1', [
        d.deliveryId,
        stored,
      ]);
      const qr = t.db.createQueryRunner();
      try {
        await new ScrubWebhookErrors1764700330000().up(qr);
      } finally {
        await qr.release();
      }
      expect((await deliveryRow(d.deliveryId)).last_error).toBe(scrubbed);
    }
  });

  describe('the trail is append-only in the database', () => {
    it('UPDATE, DELETE and TRUNCATE of complaint_events are refused; INSERT still works', async () => {
      const m = await createMerchant(t);
      const ticketId = await ticketFor(m.id);
      await expect(
        t.db.query(`UPDATE complaint_events SET data = '{}' WHERE complaint_id = $1`, [ticketId]),
      ).rejects.toThrow(/append-only: UPDATE refused/);
      await expect(
        t.db.query('DELETE FROM complaint_events WHERE complaint_id = $1', [ticketId]),
      ).rejects.toThrow(/append-only: DELETE refused/);
      await expect(t.db.query('TRUNCATE complaint_events CASCADE')).rejects.toThrow(
        /append-only: TRUNCATE refused/,
      );
      await expect(t.db.query('TRUNCATE complaints CASCADE')).rejects.toThrow(/append-only/);
      const [{ n }] = await t.db.query(
        'SELECT count(*)::int AS n FROM complaint_events WHERE complaint_id = $1',
        [ticketId],
      );
      expect(n).toBe(1);
      // Appending goes on: a message adds an event.
      await t.http
        .post(`/v1/complaints/${ticketId}/messages`)
        .set(bearer(t.token({ role: 'merchant', sub: 's', merchantId: m.id })))
        .send({ body: 'We will look at it.' })
        .expect(201);
    });
  });

  describe('the recommended application role (docs/SECURITY.md)', () => {
    it('cannot UPDATE, DELETE or TRUNCATE events, nor disable the trigger; reads them and writes other tables', async () => {
      const m = await createMerchant(t);
      const ticketId = await ticketFor(m.id);
      const role = `hejie_app_probe_${randomBytes(4).toString('hex')}`;
      const qr = t.db.createQueryRunner();
      await qr.connect();
      await qr.startTransaction(); // CREATE ROLE is transactional: rolled back below
      const attempt = async (sql: string, params: unknown[] = []) => {
        await qr.query('SAVEPOINT probe');
        try {
          await qr.query(sql, params);
          await qr.query('RELEASE SAVEPOINT probe');
          return 'ok';
        } catch (e) {
          await qr.query('ROLLBACK TO SAVEPOINT probe');
          return (e as Error).message;
        }
      };
      try {
        await qr.query(`CREATE ROLE ${role} NOLOGIN`);
        await qr.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
        await qr.query(
          `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`,
        );
        await qr.query(`REVOKE UPDATE, DELETE, TRUNCATE ON complaint_events FROM ${role}`);
        await qr.query(`SET LOCAL ROLE ${role}`);
        expect(
          await attempt(`UPDATE complaint_events SET data = '{}' WHERE complaint_id = $1`, [
            ticketId,
          ]),
        ).toMatch(/permission denied/);
        expect(
          await attempt('DELETE FROM complaint_events WHERE complaint_id = $1', [ticketId]),
        ).toMatch(/permission denied/);
        expect(await attempt('TRUNCATE complaint_events')).toMatch(/permission denied/);
        expect(
          await attempt(
            'ALTER TABLE complaint_events DISABLE TRIGGER complaint_events_no_update_delete',
          ),
        ).toMatch(/must be (the )?owner/);
        expect(
          await attempt('SELECT count(*) FROM complaint_events WHERE complaint_id = $1', [
            ticketId,
          ]),
        ).toBe('ok');
        expect(
          await attempt('UPDATE merchants SET contact_email = contact_email WHERE id = $1', [m.id]),
        ).toBe('ok');
      } finally {
        await qr.rollbackTransaction();
        await qr.release();
      }
    });
  });

  describe('outbox retention (OUTBOX_RETENTION, injected clock)', () => {
    it('purges done outbox rows and delivered webhooks past retention, in batches; keeps the rest', async () => {
      const d = await hookedTicket('https://93.184.215.14/hook');
      const now = new Date();
      const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000);
      // Other suites of this Jest worker may have left thousands of old done rows (drained on a
      // fake clock set in the past): cleared first in large batches, before this test's rows are
      // written, so the batches of two below are about this test's rows only.
      await new OutboxRetentionService(
        t.db,
        { ...config, outboxRetentionMs: 7 * 86_400_000 },
        clockAt(() => now),
      ).purge(10_000);
      const insert = (state: string, doneAt: Date | null) =>
        t.db
          .query(
            `INSERT INTO outbox (topic, complaint_id, event_seq, event_type, payload, state, done_at)
             VALUES ('test-retention', $1, 1, 'created', '{}', $2, $3) RETURNING id`,
            [d.ticketId, state, doneAt],
          )
          .then((r: { id: string }[]) => r[0].id);
      const oldDone = [
        await insert('done', daysAgo(8)),
        await insert('done', daysAgo(9)),
        await insert('done', daysAgo(30)),
      ];
      const recentDone = await insert('done', daysAgo(1));
      const oldPending = await insert('pending', null);
      const oldDead = await insert('dead', null);
      await t.db.query(
        `UPDATE webhook_deliveries SET state = 'done', delivered_at = $2 WHERE id = $1`,
        [d.deliveryId, daysAgo(8)],
      );
      const d2 = await hookedTicket('https://93.184.215.14/hook');
      await t.db.query(`UPDATE webhook_deliveries SET state = 'dead' WHERE id = $1`, [
        d2.deliveryId,
      ]);

      let clockNow = now;
      const retention = new OutboxRetentionService(
        t.db,
        { ...config, outboxRetentionMs: 7 * 86_400_000 },
        clockAt(() => clockNow),
      );

      const left = async () =>
        (await t.db.query(`SELECT id FROM outbox WHERE topic = 'test-retention' ORDER BY id`)).map(
          (r: { id: string }) => r.id,
        );
      const r = await retention.purge(2); // batches of two
      expect(r.outbox).toBeGreaterThanOrEqual(3);
      expect(r.webhookDeliveries).toBeGreaterThanOrEqual(1);
      expect(await left()).toEqual(
        [recentDone, oldPending, oldDead].sort((a, b) => Number(a) - Number(b)),
      );
      for (const id of oldDone) expect(await left()).not.toContain(id);
      const deliveries = await t.db.query(
        'SELECT id FROM webhook_deliveries WHERE id = ANY($1::uuid[])',
        [[d.deliveryId, d2.deliveryId]],
      );
      expect(deliveries).toEqual([{ id: d2.deliveryId }]);

      // A week on (the injected clock), the row done a day ago goes too; pending and dead stay.
      clockNow = new Date(now.getTime() + 7 * 86_400_000);
      await retention.purge(2);
      expect(await left()).toEqual([oldPending, oldDead].sort((a, b) => Number(a) - Number(b)));
      // 120 s: twice in CI this test ran past 30 s when it shared its Jest worker's database
      // with other suites (cause not found; see the closing note of 2026-12-02); alone it takes
      // well under a second.
    }, 120_000);
  });

  describe('sealed personal data: the re-sealing migration', () => {
    /** The v1 way, written here independently of the code: PII_KEY itself, no associated data. */
    function sealV1(key: Buffer, plain: string): string {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return ['v1', iv, c.getAuthTag(), ct]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    }

    it('re-seals v1 phones and webhook secrets to v2 (key per purpose, row id bound), idempotently', async () => {
      const key = config.piiKey;
      const m = await createMerchant(t);
      const ticketId = await ticketFor(m.id, '13912345678');
      const [fresh] = await t.db.query('SELECT contact_phone_enc FROM complaints WHERE id = $1', [
        ticketId,
      ]);
      expect(fresh.contact_phone_enc).toMatch(/^v2\./);
      expect(openFor(key, 'phone', ticketId, fresh.contact_phone_enc)).toBe('13912345678');

      // As a database sealed before this change holds them.
      await t.db.query('UPDATE complaints SET contact_phone_enc = $2 WHERE id = $1', [
        ticketId,
        sealV1(key, '13912345678'),
      ]);
      await t.db.query('UPDATE merchants SET webhook_secret = $2 WHERE id = $1', [
        m.id,
        sealV1(key, 'whsec_legacy-secret'),
      ]);

      const migration = new SealPerPurpose1764700320000();
      const run = async (ds: DataSource) => {
        const qr = ds.createQueryRunner();
        try {
          await migration.up(qr);
        } finally {
          await qr.release();
        }
      };
      const saved = process.env.PII_KEY;
      delete process.env.PII_KEY;
      try {
        await expect(run(t.db)).rejects.toThrow(/set PII_KEY/);
      } finally {
        process.env.PII_KEY = saved;
      }
      process.env.PII_KEY = key.toString('base64');
      await run(t.db);
      await run(t.db); // nothing left to do

      const [c] = await t.db.query('SELECT contact_phone_enc FROM complaints WHERE id = $1', [
        ticketId,
      ]);
      const [mm] = await t.db.query('SELECT webhook_secret FROM merchants WHERE id = $1', [m.id]);
      expect(c.contact_phone_enc).toMatch(/^v2\./);
      expect(mm.webhook_secret).toMatch(/^v2\./);
      expect(openFor(key, 'phone', ticketId, c.contact_phone_enc)).toBe('13912345678');
      expect(openFor(key, 'webhook-secret', m.id, mm.webhook_secret)).toBe('whsec_legacy-secret');
      // Bound to its row and purpose.
      expect(() => openFor(key, 'phone', m.id, c.contact_phone_enc)).toThrow();
      expect(() => openFor(key, 'phone', ticketId, mm.webhook_secret)).toThrow();
      // The API reads it: the office and admins see the phone, merchants the mask.
      const seen = await t.http.get(`/v1/complaints/${ticketId}`).set(admin()).expect(200);
      expect(seen.body.contactPhone).toBe('13912345678');
    });
  });
});
