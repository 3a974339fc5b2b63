/*
 * Issue 11, the API's edge: bodies refused before they are read, timeouts and the batch cap,
 * strict text in every parsed body, integrator keys and reserved providers, amount bounds and
 * forged cursors. Raw sockets and node:http where supertest would hide what is measured.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { signHmac } from '../libs/receipts/src/verifiers/test-signers';
import {
  complaintBody,
  createOffice,
  createReceipt,
  createShop,
  ticketIn,
} from './factories/complaint.factory';
import type { Shop } from './factories/complaint.factory';
import { newCreditCode } from './factories/directory.factory';
import { genericReceipt, postBatch, postGeneric, sendAlipay } from './factories/receipts.factory';
import { alipayParams } from './factories/receipts.factory';
import { bearer, HMAC_SECRET, startTestApp, TestApp } from './helpers/test-app';

const MiB = 1024 * 1024;
const POS_SECRET = 'pos-one-secret-0123456789';
const OTHER_SECRET = 'other-secret-0123456789ab';

function expectProblem(
  res: { status: number; headers: Record<string, string>; body: Record<string, unknown> },
  status: number,
  code: string,
) {
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
}

async function listen(t: TestApp): Promise<number> {
  const server = t.app.getHttpServer() as http.Server;
  if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/**
 * The status line and head the server answers to `head` (no body sent), or null on close;
 * `endedAfterMs`: when it answered or closed (null: neither within `waitMs`).
 */
function rawExchange(
  port: number,
  head: string,
  opts: { bodyPart?: Buffer; waitMs?: number } = {},
): Promise<{
  answer: string | null;
  closedAfterMs: number | null;
  endedAfterMs: number | null;
  socket: net.Socket;
}> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let done = false;
    const timer = setTimeout(() => finish(false, true), opts.waitMs ?? 3000);
    const finish = (closed: boolean, timedOut = false) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({
        answer: answer || null,
        closedAfterMs: closed ? Date.now() - started : null,
        endedAfterMs: timedOut ? null : Date.now() - started,
        socket,
      });
    };
    socket.on('connect', () => {
      socket.write(head);
      if (opts.bodyPart) socket.write(opts.bodyPart);
    });
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n\r\n')) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

/** POSTs `body` with node:http; resolves at the response (the upload may still be running). */
function postRaw(
  port: number,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; ms: number; body: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', headers, agent: false },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, ms: Date.now() - started, body: text }),
        );
        res.on('error', () =>
          resolve({ status: res.statusCode ?? 0, ms: Date.now() - started, body: text }),
        );
      },
    );
    // The server closes the connection after refusing: the rest of the upload fails, as intended.
    req.on('error', (e) => setTimeout(() => reject(e), 2000));
    req.end(body);
  });
}

describe('the API edge (issue 11)', () => {
  let t: TestApp;
  let port: number;
  let shop: Shop;
  const admin = () => bearer(t.token({ role: 'admin' }));

  beforeAll(async () => {
    t = await startTestApp({
      RECEIPT_HMAC_KEYS: `pos1:${POS_SECRET}:sunmi-pos|pos-b,other:${OTHER_SECRET}:other-pos`,
    });
    port = await listen(t);
    shop = await createShop(t, '330106');
  });
  afterAll(async () => {
    await t.close();
    delete process.env.RECEIPT_HMAC_KEYS;
  });

  describe('bodies are refused before they are read', () => {
    it('an NDJSON or form body to a JSON route → 415 without sending the body', async () => {
      for (const [path, type] of [
        ['/v1/merchants', 'application/x-ndjson'],
        ['/v1/receipts', 'application/x-ndjson'],
        ['/v1/merchants', 'application/x-www-form-urlencoded'],
        ['/v1/receipts/alipay', 'application/json'],
        ['/v1/receipts/batch', 'application/json'],
      ]) {
        const sig = `sha256=${'0'.repeat(64)}`;
        const { answer } = await rawExchange(
          port,
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\n` +
            `X-Hejie-Signature: ${sig}\r\nContent-Length: ${10 * MiB}\r\n\r\n`,
        );
        expect({ path, type, status: answer?.split(' ')[1] }).toEqual({
          path,
          type,
          status: '415',
        });
        expect(answer).toMatch(/content-type: application\/problem\+json/i);
      }
    });

    it('a declared length over the route limit (1 MB) → 413 without sending the body', async () => {
      for (const path of ['/v1/merchants', '/v1/receipts/alipay']) {
        const type = path.endsWith('alipay')
          ? 'application/x-www-form-urlencoded'
          : 'application/json';
        const { answer } = await rawExchange(
          port,
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\n` +
            `Authorization: Bearer ${t.token({ role: 'admin' })}\r\nContent-Length: ${MiB + 1}\r\n\r\n`,
        );
        expect({ path, status: answer?.split(' ')[1] }).toEqual({ path, status: '413' });
      }
    });

    it('a chunked body (no declared length) over the limit is cut off at 1 MB, on a route or on no route', async () => {
      for (const path of ['/v1/merchants', '/v1/nowhere']) {
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const socket = net.connect(port, '127.0.0.1');
        const answer = await new Promise<string>((resolve) => {
          let text = '';
          let sent = 0;
          socket.on('data', (d) => {
            text += d.toString('latin1');
            if (text.includes('\r\n\r\n')) resolve(text);
          });
          socket.on('close', () => resolve(text));
          socket.on('error', () => resolve(text));
          setTimeout(() => resolve(text), 5000);
          socket.on('connect', () => {
            socket.write(
              `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
                `Authorization: Bearer ${t.token({ role: 'admin' })}\r\nTransfer-Encoding: chunked\r\n\r\n`,
            );
            const pump = () => {
              // 4 MiB at most; the server must answer long before.
              while (sent < 64 && !socket.destroyed) {
                sent++;
                if (
                  !socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`)
                ) {
                  socket.once('drain', pump);
                  return;
                }
              }
            };
            pump();
          });
        });
        socket.destroy();
        expect({ path, status: answer.split(' ')[1] }).toEqual({ path, status: '413' });
      }
    });

    it('signed routes: a missing or malformed signature or an unknown key id → 401 without sending the body', async () => {
      const cases: [string, string][] = [
        ['/v1/receipts/batch', ''],
        ['/v1/receipts/batch', 'X-Hejie-Signature: sha256=xyz\r\n'],
        [
          '/v1/receipts/batch',
          `X-Hejie-Signature: sha256=${'0'.repeat(64)}\r\nX-Hejie-Key-Id: nobody\r\n`,
        ],
        ['/v1/receipts', ''],
        ['/v1/receipts', 'X-Hejie-Signature: md5=abc\r\n'],
        ['/v1/refunds/batch', ''],
        ['/v1/refunds/batch', 'X-Hejie-Signature: sha256=xyz\r\n'],
        [
          '/v1/refunds/batch',
          `X-Hejie-Signature: sha256=${'0'.repeat(64)}\r\nX-Hejie-Key-Id: nobody\r\n`,
        ],
        ['/v1/refunds', ''],
      ];
      for (const [path, extra] of cases) {
        const type = path.endsWith('batch') ? 'application/x-ndjson' : 'application/json';
        const { answer } = await rawExchange(
          port,
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\n${extra}Content-Length: ${32 * MiB}\r\n\r\n`,
        );
        expect({ path, extra, status: answer?.split(' ')[1] }).toEqual({
          path,
          extra,
          status: '401',
        });
        expect(answer).toMatch(/RECEIPT_SIGNATURE_INVALID/);
      }
    });

    it('five unsigned 64 MiB bodies of 0xFF to the batch route → 401 quickly, memory flat', async () => {
      const body = Buffer.alloc(64 * MiB, 0xff);
      global.gc?.();
      const before = process.memoryUsage();
      let peakRss = before.rss;
      let peakBuffers = before.arrayBuffers;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
      }, 5);
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          postRaw(port, '/v1/receipts/batch', { 'content-type': 'application/x-ndjson' }, body),
        ),
      );
      clearInterval(sampler);
      const elapsed = Date.now() - started;
      if (process.env.EDGE_MEASURE) {
        console.info(
          `5 × 64 MiB unsigned: ${elapsed} ms, peak rss +${((peakRss - before.rss) / MiB).toFixed(1)} MiB, ` +
            `peak arrayBuffers +${((peakBuffers - before.arrayBuffers) / MiB).toFixed(1)} MiB`,
        );
      }
      expect(results.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
      expect(JSON.parse(results[0].body)).toMatchObject({ code: 'RECEIPT_SIGNATURE_INVALID' });
      expect(elapsed).toBeLessThan(3000);
      expect((peakBuffers - before.arrayBuffers) / MiB).toBeLessThan(32);
      expect((peakRss - before.rss) / MiB).toBeLessThan(32);
      // The API still answers.
      await t.http.get('/health').expect(200);
    });

    it('a signed but wrongly signed body is refused after its bytes are hashed, never decoded (0xFF bytes → 401, not 400)', async () => {
      const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
      const res = await postRaw(
        port,
        '/v1/receipts',
        { 'content-type': 'application/json', 'x-hejie-signature': `sha256=${'a'.repeat(64)}` },
        bytes,
      );
      expect(res.status).toBe(401);
      // Well signed, but not UTF-8 → 400 (the bytes are decoded strictly, after the HMAC).
      const ok = await postRaw(
        port,
        '/v1/receipts',
        { 'content-type': 'application/json', 'x-hejie-signature': signHmac(bytes, HMAC_SECRET) },
        bytes,
      );
      expect(ok.status).toBe(400);
    });

    it('batches too: the HMAC is checked over the bytes as received, then each line is decoded (0xFF line → 401 when wrongly signed, its number rejected when well signed)', async () => {
      const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
      const ndjson = { 'content-type': 'application/x-ndjson' };
      for (const path of ['/v1/receipts/batch', '/v1/refunds/batch']) {
        const wrong = await postRaw(
          port,
          path,
          { ...ndjson, 'x-hejie-signature': `sha256=${'a'.repeat(64)}` },
          bytes,
        );
        expect({ path, status: wrong.status }).toEqual({ path, status: 401 });
        expect(JSON.parse(wrong.body)).toMatchObject({ code: 'RECEIPT_SIGNATURE_INVALID' });
        // Signed over the bytes: accepted as a batch whose one line is refused by number (a
        // signature over a decoded copy, U+FFFD in place of 0xFF, would not match: 401).
        const signed = await postRaw(
          port,
          path,
          { ...ndjson, 'x-hejie-signature': signHmac(bytes, HMAC_SECRET) },
          bytes,
        );
        expect({ path, status: signed.status }).toEqual({ path, status: 200 });
        expect(JSON.parse(signed.body)).toMatchObject({
          created: 0,
          rejected: [{ line: 1, code: 'VALIDATION_FAILED' }],
        });
      }
    });
  });

  describe('every parsed body is clean text without prototype keys', () => {
    it('POST /v1/merchants: an unpaired surrogate in the e-mail, U+0000 in the name → 400, no row', async () => {
      for (const raw of [
        `{"name":"Tea","creditCode":"${newCreditCode()}","contactEmail":"a\\ud800@example.com"}`,
        `{"name":"Tea\\u0000House","creditCode":"${newCreditCode()}"}`,
        `{"name":"Tea","creditCode":"${newCreditCode()}","contactEmail":"\\udc00x@example.com"}`,
      ]) {
        const res = await t.http
          .post('/v1/merchants')
          .set(admin())
          .set('content-type', 'application/json')
          .send(raw);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors).toEqual([
          { field: expect.stringMatching(/^(name|contactEmail)$/), message: expect.any(String) },
        ]);
        const code = (JSON.parse(raw) as { creditCode: string }).creditCode;
        const rows = await t.db.query('SELECT 1 FROM merchants WHERE credit_code = $1', [code]);
        expect(rows).toHaveLength(0);
      }
    });

    it('a paired surrogate (emoji) is fine', async () => {
      await t.http
        .post('/v1/merchants')
        .set(admin())
        .send({ name: 'Tea 🍵 House', creditCode: newCreditCode() })
        .expect(201);
    });

    it.each(['__proto__', 'constructor', 'prototype'])(
      '"%s" keys on merchants, stores, offices and complaints → 400',
      async (key) => {
        const receipt = await createReceipt(t, { accountId: shop.accountId });
        const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
        const inject = (o: object, nested = false) => {
          const json = JSON.stringify(o);
          const evil = `"${key}":{"isAdmin":true,"prototype":{"x":1}}`;
          return nested
            ? json.replace(/}$/, `,"extra":{${evil}}}`)
            : json.replace(/^{/, `{${evil},`);
        };
        const cases: [string, string, Record<string, string>][] = [
          ['/v1/merchants', inject({ name: 'Evil', creditCode: newCreditCode() }), admin()],
          [
            `/v1/merchants/${shop.merchant.id}/stores`,
            inject({
              name: 'S',
              address: 'A',
              regionCode: '330106',
              paymentAccounts: [{ provider: 'pos-x', accountId: `a${randomUUID()}` }],
            }),
            admin(),
          ],
          ['/v1/offices', inject({ name: 'O', regionCodes: ['3301'] }), admin()],
          ['/v1/complaints', inject(complaintBody(receipt.id)), consumer],
          ['/v1/complaints', inject(complaintBody(receipt.id), true), consumer],
        ];
        for (const [path, raw, auth] of cases) {
          const res = await t.http
            .post(path)
            .set(auth)
            .set('content-type', 'application/json')
            .send(raw);
          expect({ path, status: res.status, code: res.body.code }).toEqual({
            path,
            status: 400,
            code: 'VALIDATION_FAILED',
          });
        }
        const [{ n }] = await t.db.query(
          'SELECT count(*)::int AS n FROM complaints WHERE receipt_id = $1',
          [receipt.id],
        );
        expect(n).toBe(0);
      },
    );

    it('forms: a U+0000 or a lone surrogate escape → 400 before the signature is checked', async () => {
      for (const extra of ['&x=a%00b', '&x=%ED%A0%80', '&x=%FF']) {
        const res = await t.http
          .post('/v1/receipts/alipay')
          .set('content-type', 'application/x-www-form-urlencoded')
          .send(`a=1${extra}`);
        expectProblem(res, 400, 'VALIDATION_FAILED');
      }
    });

    it('NDJSON: a line with a prototype key or U+0000 is rejected by number; the others are stored', async () => {
      const good = genericReceipt();
      const lines = [
        JSON.stringify(good),
        JSON.stringify(genericReceipt()).replace(/^{/, '{"__proto__":{"x":1},'),
        JSON.stringify(genericReceipt({ subject: 'tea\u0000' })),
        JSON.stringify(genericReceipt()).replace(/^{/, '{"constructor":"x",'),
      ];
      const res = await postBatch(t, lines.join('\n')).expect(200);
      expect(res.body.created).toBe(1);
      expect(
        res.body.rejected.map((r: { line: number; code: string }) => [r.line, r.code]),
      ).toEqual([
        [2, 'VALIDATION_FAILED'],
        [3, 'VALIDATION_FAILED'],
        [4, 'VALIDATION_FAILED'],
      ]);
    });
  });

  describe('integrator keys (RECEIPT_HMAC_KEYS, X-Hejie-Key-Id) and reserved providers', () => {
    const post = (body: object, secret: string, keyId?: string) => {
      const raw = JSON.stringify(body);
      const req = t.http
        .post('/v1/receipts')
        .set('content-type', 'application/json')
        .set('x-hejie-signature', signHmac(raw, secret));
      if (keyId) req.set('x-hejie-key-id', keyId);
      return req.send(raw);
    };

    it('a key signs for its own providers → 201', async () => {
      await post(genericReceipt({ provider: 'sunmi-pos' }), POS_SECRET, 'pos1').expect(201);
      await post(genericReceipt({ provider: 'pos-b' }), POS_SECRET, 'pos1').expect(201);
      await post(genericReceipt({ provider: 'other-pos' }), OTHER_SECRET, 'other').expect(201);
    });

    it('a key used for a provider it does not list → 401, no row', async () => {
      const body = genericReceipt({ provider: 'other-pos' });
      expectProblem(await post(body, POS_SECRET, 'pos1'), 401, 'RECEIPT_SIGNATURE_INVALID');
      const rows = await t.db.query('SELECT 1 FROM receipts WHERE trade_no = $1', [body.tradeNo]);
      expect(rows).toHaveLength(0);
    });

    it("a key id with another key's secret, or an unknown key id → 401", async () => {
      const body = genericReceipt({ provider: 'sunmi-pos' });
      expectProblem(await post(body, HMAC_SECRET, 'pos1'), 401, 'RECEIPT_SIGNATURE_INVALID');
      expectProblem(await post(body, POS_SECRET), 401, 'RECEIPT_SIGNATURE_INVALID');
      expectProblem(await post(body, POS_SECRET, 'ghost'), 401, 'RECEIPT_SIGNATURE_INVALID');
    });

    it('no X-Hejie-Key-Id → default (RECEIPT_HMAC_SECRET), any provider that is not reserved', async () => {
      await post(genericReceipt({ provider: 'any-pos' }), HMAC_SECRET).expect(201);
    });

    it.each(['alipay', 'wechatpay'])(
      'provider %s on the generic route → 422 PROVIDER_RESERVED, whatever the key',
      async (provider) => {
        const body = genericReceipt({ provider });
        expectProblem(await post(body, HMAC_SECRET), 422, 'PROVIDER_RESERVED');
        expectProblem(await post(body, POS_SECRET, 'pos1'), 422, 'PROVIDER_RESERVED');
        const rows = await t.db.query('SELECT 1 FROM receipts WHERE trade_no = $1', [body.tradeNo]);
        expect(rows).toHaveLength(0);
      },
    );

    it('batch: reserved and foreign providers rejected by line, the others stored', async () => {
      const lines = [
        genericReceipt({ provider: 'sunmi-pos' }),
        genericReceipt({ provider: 'alipay' }),
        genericReceipt({ provider: 'other-pos' }),
        genericReceipt({ provider: 'pos-b' }),
      ].map((r) => JSON.stringify(r));
      const raw = lines.join('\n');
      const res = await t.http
        .post('/v1/receipts/batch')
        .set('content-type', 'application/x-ndjson')
        .set('x-hejie-key-id', 'pos1')
        .set('x-hejie-signature', signHmac(raw, POS_SECRET))
        .send(raw)
        .expect(200);
      expect(res.body).toMatchObject({ created: 2, duplicates: 0 });
      expect(
        res.body.rejected.map((r: { line: number; code: string }) => [r.line, r.code]),
      ).toEqual([
        [2, 'PROVIDER_RESERVED'],
        [3, 'RECEIPT_SIGNATURE_INVALID'],
      ]);
    });
  });

  describe('amounts and cursors', () => {
    it.each([
      ['10^12 + 1', 1e12 + 1],
      ['1e21', 1e21],
    ])('generic receipt amountMinor %s → 400 (10^12 itself is fine)', async (_w, amount) => {
      expectProblem(
        await postGeneric(t, genericReceipt({ amountMinor: amount })),
        400,
        'VALIDATION_FAILED',
      );
      await postGeneric(t, genericReceipt({ amountMinor: 1e12 })).expect(201);
    });

    it('a batch line with amountMinor 1e21 is rejected by number', async () => {
      const raw = [genericReceipt(), genericReceipt({ amountMinor: 1e21 })]
        .map((r) => JSON.stringify(r))
        .join('\n');
      const res = await postBatch(t, raw).expect(200);
      expect(res.body.created).toBe(1);
      expect(res.body.rejected).toEqual([
        expect.objectContaining({ line: 2, code: 'VALIDATION_FAILED' }),
      ]);
    });

    it('Alipay total_amount over 10^12 fen → 400', async () => {
      const res = await sendAlipay(t, alipayParams({ total_amount: '10000000000.01' }));
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });

    it('a complaint demand of 1e21 → 400, never 500', async () => {
      const receipt = await createReceipt(t, { accountId: shop.accountId });
      const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
      for (const amountMinor of [1e21, 1e12 + 1]) {
        const res = await t.http
          .post('/v1/complaints')
          .set(consumer)
          .send(complaintBody(receipt.id, { demand: { type: 'compensation', amountMinor } }));
        expectProblem(res, 400, 'VALIDATION_FAILED');
      }
    });

    it('offers: 1e21 → 400; a refund offer above the amount paid → 422 DEMAND_EXCEEDS_PAYMENT; at the amount → 201', async () => {
      await createOffice(t, ['3301']);
      const ticket = await ticketIn(t, shop, 'awaiting_merchant');
      const offer = (body: object) =>
        t.http.post(`/v1/complaints/${ticket.id}/offers`).set(shop.staff).send(body);
      expectProblem(
        await offer({ type: 'compensation', amountMinor: 1e21 }),
        400,
        'VALIDATION_FAILED',
      );
      const over = await offer({ type: 'refund', amountMinor: 12801 });
      expectProblem(over, 422, 'DEMAND_EXCEEDS_PAYMENT');
      expectProblem(
        await offer({ type: 'partial_refund', amountMinor: 12801 }),
        422,
        'DEMAND_EXCEEDS_PAYMENT',
      );
      const [{ n }] = await t.db.query(
        'SELECT count(*)::int AS n FROM complaint_offers WHERE complaint_id = $1',
        [ticket.id],
      );
      expect(n).toBe(0);
      await offer({ type: 'refund', amountMinor: 12800 }).expect(201);
    });

    it('a cursor that only looks like a date (["1", uuid]) → 400 on every list, never 500', async () => {
      const forged = Buffer.from(JSON.stringify(['1', randomUUID()])).toString('base64url');
      const lists: [string, Record<string, string>][] = [
        ['/v1/complaints', admin()],
        ['/v1/complaints', bearer(t.token({ role: 'consumer', sub: 'sunmi-pos:x' }))],
        ['/v1/receipts', bearer(t.token({ role: 'consumer', sub: 'sunmi-pos:x' }))],
        ['/v1/merchants', admin()],
        ['/v1/offices', admin()],
      ];
      for (const [path, auth] of lists) {
        const res = await t.http.get(`${path}?cursor=${forged}`).set(auth);
        expect({ path, status: res.status, code: res.body.code }).toEqual({
          path,
          status: 400,
          code: 'VALIDATION_FAILED',
        });
      }
    });
  });
});

describe('timeouts and the batch upload cap', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp({
      REQUEST_TIMEOUT: '1s',
      HEADERS_TIMEOUT: '1s',
      CONNECTION_TIMEOUT: '5s',
      KEEP_ALIVE_TIMEOUT: '1s',
      BATCH_MAX_CONCURRENT: '1',
    });
    port = await listen(t);
  });
  afterAll(async () => {
    await t.close();
    for (const k of [
      'REQUEST_TIMEOUT',
      'HEADERS_TIMEOUT',
      'CONNECTION_TIMEOUT',
      'KEEP_ALIVE_TIMEOUT',
      'BATCH_MAX_CONCURRENT',
    ]) {
      delete process.env[k];
    }
  });

  const stalledBatchHead = (length: number) =>
    `POST /v1/receipts/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n` +
    `X-Hejie-Signature: sha256=${'0'.repeat(64)}\r\nContent-Length: ${length}\r\n\r\n`;

  it('a stalled upload (headers and part of the body, then nothing) is cut off; the API stays responsive', async () => {
    const started = Date.now();
    const stalled = rawExchange(port, stalledBatchHead(100_000), {
      bodyPart: Buffer.from('{"provider":'),
      waitMs: 6000,
    });
    // Meanwhile the API answers others at once.
    const health = await t.http.get('/health');
    expect(health.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    const { answer, endedAfterMs, socket } = await stalled;
    socket.destroy();
    // Node answers 408 (or closes) once REQUEST_TIMEOUT has passed; never waits forever.
    expect(endedAfterMs).not.toBeNull();
    expect(endedAfterMs).toBeLessThan(4000);
    expect(answer === null ? 'closed' : answer.split(' ')[1]).toMatch(/^(closed|408)$/);
  });

  it('stalled headers are cut off too', async () => {
    const { endedAfterMs, answer, socket } = await rawExchange(
      port,
      'POST /v1/merchants HTTP/1.1\r\nHost: x\r\nContent-Ty',
      { waitMs: 6000 },
    );
    socket.destroy();
    // Closed, or answered 408, within 4 s (an answer after that fails too).
    expect(endedAfterMs).not.toBeNull();
    expect(endedAfterMs).toBeLessThan(4000);
    expect(answer === null ? 'closed' : answer.split(' ')[1]).toMatch(/^(closed|408)$/);
  });

  it('the server carries the configured timeouts (request, headers, silence, keep-alive)', async () => {
    // The wiring is what Hejie owns: Node's http.Server enforces these timers itself (on the real
    // clock, which an injected clock cannot drive), so the test reads them back instead of waiting.
    const server = t.app.getHttpServer() as http.Server;
    expect({
      request: server.requestTimeout,
      headers: server.headersTimeout,
      silence: server.timeout,
      keepAlive: server.keepAliveTimeout,
    }).toEqual({ request: 1000, headers: 1000, silence: 5000, keepAlive: 1000 });
  });

  it('BATCH_MAX_CONCURRENT uploads at once: one more → 429 RATE_LIMITED with Retry-After; the slot is free again afterwards', async () => {
    const holder = rawExchange(port, stalledBatchHead(100_000), {
      bodyPart: Buffer.from('{'),
      waitMs: 500,
    });
    await new Promise((r) => setTimeout(r, 100));
    const second = await postBatch(t, JSON.stringify(genericReceipt()));
    expectProblem(second, 429, 'RATE_LIMITED');
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
    (await holder).socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    await postBatch(t, JSON.stringify(genericReceipt())).expect(200);
  });
});
