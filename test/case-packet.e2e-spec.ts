import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import {
  COMPLAINANT,
  createOffice,
  createReceipt,
  complaintBody,
  Shop,
  ticketIn,
} from './factories/complaint.factory';
import { createMerchant, createStore } from './factories/directory.factory';

/** Supertest: collect a binary body as a Buffer. */
function binary(res: unknown, cb: (err: Error | null, body: Buffer) => void) {
  const stream = res as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
  stream.on('error', (e: Error) => cb(e, Buffer.alloc(0)));
}

const MERCHANT_NAME = '杭州西湖龙井茶叶有限公司';

describe('case packet (PUT …/complainant, GET …/case-packet, accept)', () => {
  let t: TestApp;
  let shop: Shop;
  let officer: { Authorization: string };
  let officeName: string;
  const region = `53${String(randomInt(1000, 9999))}`;

  beforeAll(async () => {
    t = await startTestApp();
    officeName = `昆明市五华区市场监督管理局 ${randomBytes(2).toString('hex')}`;
    const office = await createOffice(t, [region], officeName);
    officer = bearer(t.token({ role: 'regulator', sub: 'officer-cp', officeId: office.id }));
    const merchant = await createMerchant(t, { name: MERCHANT_NAME });
    const store = await createStore(t, merchant.id, {
      name: '翠湖门店',
      address: '云南省昆明市五华区翠湖南路1号',
      regionCode: region,
    });
    shop = {
      merchant,
      store,
      account: (p: string) => store.paymentAccounts.find((a) => a.provider === p)!.accountId,
      accountId: store.paymentAccounts.find((a) => a.provider === 'sunmi-pos')!.accountId,
      staff: bearer(t.token({ role: 'merchant', sub: 'staff-cp', merchantId: merchant.id })),
    } as unknown as Shop;
  });
  afterAll(() => t.close());

  it('before escalation the complainant cannot be given (409)', async () => {
    const tk = await ticketIn(t, shop, 'in_negotiation');
    const res = await t.http
      .put(`/v1/complaints/${tk.id}/complainant`)
      .set(tk.consumer)
      .send(COMPLAINANT);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('INVALID_TRANSITION');
  });

  it('an incomplete packet blocks acceptance (422 naming the fields); the consumer sees the office and what is missing; once given, encrypted, accepted', async () => {
    const tk = await ticketIn(t, shop, 'escalated', { complainant: false });

    const view = await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer).expect(200);
    expect(view.body.officeName).toBe(officeName);
    expect(view.body.casePacket).toEqual({
      complete: false,
      missing: ['complainant.realName', 'complainant.phone', 'complainant.address'],
    });
    const merchantView = await t.http.get(`/v1/complaints/${tk.id}`).set(shop.staff).expect(200);
    expect(merchantView.body.casePacket).toBeUndefined();

    const refused = await t.http.post(`/v1/complaints/${tk.id}/accept`).set(officer);
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('CASE_PACKET_INCOMPLETE');
    expect(refused.body.missing).toEqual([
      'complainant.realName',
      'complainant.phone',
      'complainant.address',
    ]);
    expect(refused.body.errors.map((e: { field: string }) => e.field)).toContain(
      'complainant.realName',
    );
    const still = await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer).expect(200);
    expect(still.body.status).toBe('escalated');

    // Only the consumer gives it; validated.
    expect(
      (await t.http.put(`/v1/complaints/${tk.id}/complainant`).set(shop.staff).send(COMPLAINANT))
        .status,
    ).toBe(403);
    const bad = await t.http
      .put(`/v1/complaints/${tk.id}/complainant`)
      .set(tk.consumer)
      .send({ ...COMPLAINANT, phone: '12345' });
    expect(bad.status).toBe(400);
    await t.http
      .put(`/v1/complaints/${tk.id}/complainant`)
      .set(tk.consumer)
      .send(COMPLAINANT)
      .expect(204);

    // At rest: sealed, never the clear text; on the trail: the fields, not their values.
    const [row] = await t.db.query(
      `SELECT sealed FROM complaint_complainants WHERE complaint_id = $1`,
      [tk.id],
    );
    // Sealed per purpose (sealFor: HKDF key per purpose, row id as associated data).
    expect(row.sealed).toMatch(/^v2\./);
    expect(row.sealed).not.toContain(COMPLAINANT.phone);
    const trail = await t.http.get(`/v1/complaints/${tk.id}/events`).set(shop.staff).expect(200);
    const provided = trail.body.items.find(
      (e: { type: string }) => e.type === 'complainant_provided',
    );
    expect(provided.data).toEqual({ fields: ['realName', 'phone', 'address'], replaced: false });
    const text = JSON.stringify(trail.body);
    for (const v of Object.values(COMPLAINANT)) expect(text).not.toContain(v);

    // Never to the merchant: the packet is 404 for it.
    expect((await t.http.get(`/v1/complaints/${tk.id}/case-packet`).set(shop.staff)).status).toBe(
      404,
    );
    const packet = await t.http
      .get(`/v1/complaints/${tk.id}/case-packet`)
      .set(tk.consumer)
      .expect(200);
    expect(packet.body).toMatchObject({
      complete: true,
      missing: [],
      complainant: COMPLAINANT,
      respondent: {
        name: MERCHANT_NAME,
        creditCode: shop.merchant.creditCode,
        address: '云南省昆明市五华区翠湖南路1号',
        storeName: '翠湖门店',
      },
      request: { category: 'quality', demand: { type: 'refund', amountMinor: 12800 } },
      facts: { description: complaintBody('x').description },
      attachments: [],
    });
    expect(packet.body.trail.headHash).toMatch(/^[0-9a-f]{64}$/);
    const verify = await t.http.get(`/v1/complaints/${tk.id}/events/verify`).set(tk.consumer);
    expect(packet.body.trail.length).toBe(verify.body.length);

    const accepted = await t.http.post(`/v1/complaints/${tk.id}/accept`).set(officer).expect(200);
    expect(accepted.body.status).toBe('mediating');
  });

  it('the complainant given with the escalation; a bad one refuses the escalation as a whole', async () => {
    const receipt = await createReceipt(t, { accountId: shop.accountId });
    const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
    const created = await t.http
      .post('/v1/complaints')
      .set(consumer)
      .send(complaintBody(receipt.id))
      .expect(201);
    await t.http
      .post(`/v1/complaints/${created.body.id}/messages`)
      .set(shop.staff)
      .send({ body: 'We will look at it.' })
      .expect(201);
    const bad = await t.http
      .post(`/v1/complaints/${created.body.id}/escalate`)
      .set(consumer)
      .send({ reason: 'No answer', complainant: { ...COMPLAINANT, address: '' } });
    expect(bad.status).toBe(400);
    const same = await t.http.get(`/v1/complaints/${created.body.id}`).set(consumer).expect(200);
    expect(same.body.status).toBe('in_negotiation');

    const ok = await t.http
      .post(`/v1/complaints/${created.body.id}/escalate`)
      .set(consumer)
      .send({ reason: 'No answer', complainant: COMPLAINANT })
      .expect(200);
    expect(ok.body.status).toBe('escalated');
    const events = await t.http
      .get(`/v1/complaints/${created.body.id}/events`)
      .set(consumer)
      .expect(200);
    expect(events.body.items.map((e: { type: string }) => e.type).slice(-2)).toEqual([
      'escalated',
      'complainant_provided',
    ]);
    const packet = await t.http
      .get(`/v1/complaints/${created.body.id}/case-packet`)
      .set(officer)
      .expect(200);
    expect(packet.body.complete).toBe(true);
    // The officer's reading of the PII is on the trail, inside the head hash it was given.
    const after = await t.http
      .get(`/v1/complaints/${created.body.id}/events`)
      .set(consumer)
      .expect(200);
    const last = after.body.items.at(-1);
    expect(last).toMatchObject({ type: 'regulator_viewed', data: { what: 'case_packet' } });
    expect(packet.body.trail.headHash).toBe(last.hash);
  });

  it.each([
    ['张三', undefined],
    // A second document with other characters: the parsed font is shared between documents,
    // each embeds the subset of glyphs it uses.
    ['欧阳娜娜', { ...COMPLAINANT, realName: '欧阳娜娜', address: '广西壮族自治区南宁市青秀区' }],
  ])(
    'as a PDF: Chinese text that pdftotext extracts, the head hash on every page (%s)',
    async (name, complainant) => {
      const tk = await ticketIn(t, shop, 'escalated', complainant ? { complainant } : {});
      const json = await t.http
        .get(`/v1/complaints/${tk.id}/case-packet`)
        .set(tk.consumer)
        .expect(200);
      const res = await t.http
        .get(`/v1/complaints/${tk.id}/case-packet`)
        .set(tk.consumer)
        .set('accept', 'application/pdf')
        .buffer(true)
        .parse(binary as never);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      expect(res.headers['content-disposition']).toMatch(/^attachment;/);
      const pdf: Buffer = res.body;
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');

      const dir = mkdtempSync(join(tmpdir(), 'packet-'));
      try {
        const file = join(dir, 'packet.pdf');
        writeFileSync(file, pdf);
        const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
        const pages = Number(/Pages:\s+(\d+)/.exec(info)?.[1]);
        expect(pages).toBeGreaterThanOrEqual(1);
        const all = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
        expect(all).toContain(MERCHANT_NAME);
        expect(all).toContain(name);
        expect(all).toContain('投诉人');
        for (let p = 1; p <= pages; p++) {
          const page = execFileSync(
            'pdftotext',
            ['-enc', 'UTF-8', '-f', String(p), '-l', String(p), file, '-'],
            { encoding: 'utf8' },
          );
          expect(page).toContain(json.body.trail.headHash);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
