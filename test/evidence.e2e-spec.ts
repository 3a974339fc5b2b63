import { createHash, randomBytes, randomInt } from 'node:crypto';
import sharp from 'sharp';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import {
  AUTHOR,
  DEVICE,
  GPS_XMP,
  LAT_LON,
  mp4WithLocation,
  pdfWithMetadata,
} from './helpers/evidence-samples';
import { createOffice, createShop, Shop, ticketIn } from './factories/complaint.factory';

const MAX_BYTES = 600_000; // three 256 KiB chunks
const MAX_COUNT = 3;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A JPEG as a phone writes it: camera make/model in IFD0 and a GPS position (IFD3). */
async function jpegWithGps(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: '#c33' } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'TestPhone', Model: 'X1 Pro' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '30/1 15/1 0/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '120/1 10/1 0/1',
      },
    })
    .toBuffer();
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n');
const MP4 = Buffer.concat([
  Buffer.from([0, 0, 0, 0x18]),
  Buffer.from('ftypisom'),
  Buffer.from([0, 0, 2, 0]),
  Buffer.from('isomiso2'),
  Buffer.alloc(200),
]);

/** Supertest: collect a binary body as a Buffer. */
function binary(res: unknown, cb: (err: Error | null, body: Buffer) => void) {
  const stream = res as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
  stream.on('error', (e: Error) => cb(e, Buffer.alloc(0)));
}

describe('evidence (POST/GET /v1/complaints/:id/attachments)', () => {
  let t: TestApp;
  let shop: Shop;
  let officer: { Authorization: string };
  const region = `54${String(randomInt(1000, 9999))}`;

  beforeAll(async () => {
    t = await startTestApp({
      ATTACHMENT_MAX_BYTES: String(MAX_BYTES),
      ATTACHMENT_MAX_COUNT: String(MAX_COUNT),
    });
    const office = await createOffice(t, [region], '拉萨市城关区市场监督管理局');
    officer = bearer(t.token({ role: 'regulator', sub: 'officer-ev', officeId: office.id }));
    shop = await createShop(t, region);
  });
  afterAll(() => t.close());

  const upload = (id: string, who: { Authorization: string }) =>
    t.http.post(`/v1/complaints/${id}/attachments`).set(who);
  const download = (id: string, aid: string, who: { Authorization: string }, q = '') =>
    t.http
      .get(`/v1/complaints/${id}/attachments/${aid}${q}`)
      .set(who)
      .buffer(true)
      .parse(binary as never);
  const events = async (id: string, who: { Authorization: string }) =>
    (await t.http.get(`/v1/complaints/${id}/events`).set(who).expect(200)).body.items as {
      type: string;
      data: Record<string, unknown>;
    }[];
  /** Blobs no attachment references: a refused upload must never leave one behind. */
  const orphanBlobs = async (): Promise<number> =>
    (
      await t.db.query(
        `SELECT count(*)::int AS n FROM attachment_blobs b WHERE NOT EXISTS (
           SELECT 1 FROM attachments a WHERE a.blob_id = b.id OR a.stripped_blob_id = b.id)`,
      )
    )[0].n;

  it("a consumer's photo reaches the merchant without GPS or device data; the original keeps them and the trail's hash", async () => {
    const tk = await ticketIn(t, shop, 'in_negotiation');
    const photo = await jpegWithGps();
    const meta = await sharp(photo).metadata();
    expect(meta.exif?.toString('latin1')).toContain('TestPhone');

    const res = await upload(tk.id, tk.consumer)
      .field('note', '壶底漏水')
      .attach('file', photo, { filename: '漏水 照片.jpg', contentType: 'image/jpeg' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      filename: '漏水 照片.jpg',
      contentType: 'image/jpeg',
      size: photo.length,
      sha256: sha256(photo),
      uploadedBy: { role: 'consumer' },
      note: '壶底漏水',
      metadataStripped: true,
    });
    const aid = res.body.id;

    const trail = await events(tk.id, tk.consumer);
    const added = trail.find((e) => e.type === 'attachment_added');
    expect(added?.data).toMatchObject({
      attachmentId: aid,
      sha256: sha256(photo),
      size: photo.length,
    });
    const verify = await t.http.get(`/v1/complaints/${tk.id}/events/verify`).set(tk.consumer);
    expect(verify.body.valid).toBe(true);

    // The merchant (the other party): re-encoded, no EXIF at all.
    const m = await download(tk.id, aid, shop.staff);
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toBe('image/jpeg');
    expect(m.headers['x-content-type-options']).toBe('nosniff');
    expect(m.headers['content-disposition']).toMatch(/^attachment; filename="/);
    expect(m.headers['content-disposition']).toContain(
      `filename*=UTF-8''${encodeURIComponent('漏水 照片.jpg')}`,
    );
    const served: Buffer = m.body;
    expect(m.headers['repr-digest']).toBe(
      `sha-256=:${createHash('sha256').update(served).digest('base64')}:`,
    );
    const stripped = await sharp(served).metadata();
    expect(stripped.format).toBe('jpeg');
    expect(stripped.exif).toBeUndefined();
    expect(stripped.xmp).toBeUndefined();
    expect(served.toString('latin1')).not.toContain('TestPhone');

    // The uploader gets the original back, byte for byte, with the trail's hash.
    const c = await download(tk.id, aid, tk.consumer, '?original=true');
    expect(c.status).toBe(200);
    expect(sha256(c.body)).toBe(added?.data.sha256);
    expect((await sharp(c.body).metadata()).exif?.toString('latin1')).toContain('TestPhone');
    expect(c.headers['repr-digest']).toBe(
      `sha-256=:${Buffer.from(sha256(photo), 'hex').toString('base64')}:`,
    );
    const plain = await download(tk.id, aid, tk.consumer);
    expect(sha256(plain.body)).toBe(sha256(photo));

    // The merchant may not ask for the original.
    const forbidden = await t.http
      .get(`/v1/complaints/${tk.id}/attachments/${aid}?original=true`)
      .set(shop.staff);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('FORBIDDEN');

    const list = await t.http
      .get(`/v1/complaints/${tk.id}/attachments`)
      .set(shop.staff)
      .expect(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ id: aid, sha256: sha256(photo) });
  });

  it('a portrait photo keeps its orientation and nothing else; a photo that does not decode is 415', async () => {
    const tk = await ticketIn(t, shop, 'in_negotiation');
    const portrait = await sharp(await jpegWithGps())
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    expect((await sharp(portrait).metadata()).orientation).toBe(6);
    const res = await upload(tk.id, tk.consumer).attach('file', portrait, 'portrait.jpg');
    expect(res.status).toBe(201);
    const m = await download(tk.id, res.body.id, shop.staff);
    const meta = await sharp(m.body).metadata();
    expect(meta.orientation).toBe(6);
    expect(meta.exif?.toString('latin1')).not.toContain('TestPhone');
    expect(meta.exif?.toString('latin1')).not.toContain('X1 Pro');
    // GPS: the GPS IFD pointer tag (0x8825) is not in the EXIF that is left.
    const exif = meta.exif!;
    expect(
      exif.includes(Buffer.from([0x88, 0x25])) || exif.includes(Buffer.from([0x25, 0x88])),
    ).toBe(false);

    const broken = Buffer.concat([(await jpegWithGps()).subarray(0, 300), randomBytes(5000)]);
    const bad = await upload(tk.id, tk.consumer).attach('file', broken, 'broken.jpg');
    expect(bad.status).toBe(415);
    expect(await orphanBlobs()).toBe(0);
  });

  it('the office may fetch the original; a merchant photo is stripped for the consumer', async () => {
    const tk = await ticketIn(t, shop, 'escalated');
    const photo = await jpegWithGps();
    const res = await upload(tk.id, shop.staff).attach('file', photo, 'courier-slip.jpg');
    expect(res.status).toBe(201);
    const toConsumer = await download(tk.id, res.body.id, tk.consumer);
    expect((await sharp(toConsumer.body).metadata()).exif).toBeUndefined();
    expect((await download(tk.id, res.body.id, tk.consumer, '?original=true')).status).toBe(403);
    const office = await download(tk.id, res.body.id, officer, '?original=true');
    expect(office.status).toBe(200);
    expect(sha256(office.body)).toBe(sha256(photo));
    // The office uploads too (its own party).
    const up = await upload(tk.id, officer).attach('file', PDF, 'inspection.pdf');
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({
      contentType: 'application/pdf',
      uploadedBy: { role: 'regulator' },
    });
  });

  it("a PDF's author/device/XMP GPS and an MP4's location and device reach the other party removed; the original keeps them and the trail's hash", async () => {
    const tk = await ticketIn(t, shop, 'in_negotiation');
    const pdf = await pdfWithMetadata();
    const { file: mp4, chunkOffset, frame } = mp4WithLocation();
    expect(pdf.toString('latin1')).toContain(GPS_XMP);
    expect(mp4.toString('latin1')).toContain(LAT_LON);

    for (const [bytes, name, secrets] of [
      [pdf, 'invoice.pdf', [AUTHOR, GPS_XMP, DEVICE]],
      [mp4, 'unboxing.mp4', [LAT_LON, DEVICE]],
    ] as const) {
      const up = await upload(tk.id, tk.consumer).attach('file', bytes, name);
      expect(up.status).toBe(201);
      expect(up.body).toMatchObject({
        sha256: sha256(bytes),
        size: bytes.length,
        metadataStripped: true,
      });
      const added = (await events(tk.id, tk.consumer)).find(
        (e) => e.type === 'attachment_added' && e.data.attachmentId === up.body.id,
      );
      expect(added?.data.sha256).toBe(sha256(bytes));

      const m = await download(tk.id, up.body.id, shop.staff);
      expect(m.status).toBe(200);
      expect(m.headers['x-hejie-original']).toBe('false');
      const served: Buffer = m.body;
      expect(served.length).toBe(bytes.length); // rewritten in place: offsets stay valid
      expect(m.headers['repr-digest']).toBe(
        `sha-256=:${createHash('sha256').update(served).digest('base64')}:`,
      );
      for (const secret of secrets) {
        expect(served.toString('latin1')).not.toContain(secret);
        expect(served.toString('utf8')).not.toContain(secret);
      }
      // The uploader gets the original, with the hash on the trail (the office too: above).
      const o = await download(tk.id, up.body.id, tk.consumer, '?original=true');
      expect(sha256(o.body)).toBe(sha256(bytes));
      expect((o.body as Buffer).toString('latin1')).toContain(secrets[0]);
      expect((await download(tk.id, up.body.id, shop.staff, '?original=true')).status).toBe(403);
      if (name.endsWith('.mp4')) {
        expect(served.subarray(chunkOffset, chunkOffset + frame.length)).toEqual(frame);
      }
    }
  });

  it('types come from the bytes: a .jpg that is text is 415 and stores nothing; PDF and MP4 pass whatever their names', async () => {
    const tk = await ticketIn(t, shop, 'awaiting_merchant');
    const text = Buffer.from(
      'this is not a photo at all, only text pretending to be one\n'.repeat(200),
    );
    const res = await upload(tk.id, tk.consumer).attach('file', text, {
      filename: 'photo.jpg',
      contentType: 'image/jpeg',
    });
    expect(res.status).toBe(415);
    expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await orphanBlobs()).toBe(0);
    const listed = await t.http.get(`/v1/complaints/${tk.id}/attachments`).set(tk.consumer);
    expect(listed.body.items).toHaveLength(0);
    expect((await events(tk.id, tk.consumer)).map((e) => e.type)).not.toContain('attachment_added');

    const pdf = await upload(tk.id, tk.consumer).attach('file', PDF, {
      filename: 'receipt.png',
      contentType: 'image/png',
    });
    expect(pdf.status).toBe(201);
    expect(pdf.body).toMatchObject({ contentType: 'application/pdf', metadataStripped: false });
    const mp4 = await upload(tk.id, tk.consumer).attach('file', MP4, 'clip.bin');
    expect(mp4.status).toBe(201);
    expect(mp4.body.contentType).toBe('video/mp4');
    const back = await download(tk.id, mp4.body.id, shop.staff);
    expect(back.headers['content-type']).toBe('video/mp4');
    expect(sha256(back.body)).toBe(sha256(MP4));
  });

  it('over ATTACHMENT_MAX_BYTES is 413, whether declared up front or found while streaming', async () => {
    const tk = await ticketIn(t, shop, 'awaiting_merchant');
    const photo = await jpegWithGps();
    // Declared length far over the limit: refused before the body is read.
    const big = Buffer.concat([photo, Buffer.alloc(MAX_BYTES * 2)]);
    const early = await upload(tk.id, tk.consumer).attach('file', big, 'big.jpg');
    expect(early.status).toBe(413);
    expect(early.body.code).toBe('PAYLOAD_TOO_LARGE');
    // Just over: the stream is cut at the limit.
    const over = Buffer.concat([photo, Buffer.alloc(MAX_BYTES + 1000 - photo.length)]);
    const late = await upload(tk.id, tk.consumer).attach('file', over, 'over.jpg');
    expect(late.status).toBe(413);
    expect(late.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await orphanBlobs()).toBe(0);
    // A file of exactly the limit passes, stored in three chunks and read back byte for byte.
    const exact = Buffer.concat([PDF, Buffer.alloc(MAX_BYTES - PDF.length, 0x20)]);
    const ok = await upload(tk.id, tk.consumer).attach('file', exact, 'exact.pdf');
    expect(ok.status).toBe(201);
    const back = await download(tk.id, ok.body.id, shop.staff);
    expect(back.body.length).toBe(MAX_BYTES);
    expect(sha256(back.body)).toBe(sha256(exact));
    // Exactly two full chunks: the read ends on the empty third, not on a short chunk.
    const two = Buffer.concat([PDF, Buffer.alloc(2 * 256 * 1024 - PDF.length, 0x21)]);
    const up2 = await upload(tk.id, tk.consumer).attach('file', two, 'two-chunks.pdf');
    expect(up2.status).toBe(201);
    const back2 = await download(tk.id, up2.body.id, shop.staff);
    expect(back2.body.length).toBe(two.length);
    expect(sha256(back2.body)).toBe(sha256(two));
  });

  it('ATTACHMENT_MAX_COUNT per party per ticket → 422 ATTACHMENT_LIMIT; the other party keeps its own allowance', async () => {
    const tk = await ticketIn(t, shop, 'in_negotiation');
    for (let i = 0; i < MAX_COUNT; i++) {
      await upload(tk.id, tk.consumer).attach('file', PDF, `p${i}.pdf`).expect(201);
    }
    const over = await upload(tk.id, tk.consumer).attach('file', PDF, 'one-more.pdf');
    expect(over.status).toBe(422);
    expect(over.body.code).toBe('ATTACHMENT_LIMIT');
    await upload(tk.id, shop.staff).attach('file', PDF, 'merchant.pdf').expect(201);
  });

  it('closed tickets take no evidence (409); strangers get 404; malformed forms 400; non-multipart 415', async () => {
    const closed = await ticketIn(t, shop, 'withdrawn');
    const r409 = await upload(closed.id, closed.consumer).attach('file', PDF, 'late.pdf');
    expect(r409.status).toBe(409);
    expect(r409.body.code).toBe('INVALID_TRANSITION');

    const tk = await ticketIn(t, shop, 'awaiting_merchant');
    const stranger = bearer(t.token({ role: 'consumer', sub: 'alipay:someone-else' }));
    expect((await upload(tk.id, stranger).attach('file', PDF, 'x.pdf')).status).toBe(404);
    const otherShop = bearer(
      t.token({ role: 'merchant', sub: 's', merchantId: '00000000-0000-4000-8000-000000000001' }),
    );
    expect((await t.http.get(`/v1/complaints/${tk.id}/attachments`).set(otherShop)).status).toBe(
      404,
    );
    // Not yet escalated: the office does not see it.
    expect((await upload(tk.id, officer).attach('file', PDF, 'x.pdf')).status).toBe(404);

    const noFile = await upload(tk.id, tk.consumer).field('note', 'only a note');
    expect(noFile.status).toBe(400);
    const unknown = await upload(tk.id, tk.consumer)
      .field('comment', 'x')
      .attach('file', PDF, 'x.pdf');
    expect(unknown.status).toBe(400);
    const twoFiles = await upload(tk.id, tk.consumer)
      .attach('file', PDF, 'a.pdf')
      .attach('file', PDF, 'b.pdf');
    expect(twoFiles.status).toBe(400);
    const longNote = await upload(tk.id, tk.consumer)
      .field('note', 'x'.repeat(2001))
      .attach('file', PDF, 'x.pdf');
    expect(longNote.status).toBe(400);
    const json = await upload(tk.id, tk.consumer).send({ file: 'x' });
    expect(json.status).toBe(415);
    expect(await orphanBlobs()).toBe(0);
    const listed = await t.http.get(`/v1/complaints/${tk.id}/attachments`).set(tk.consumer);
    expect(listed.body.items).toHaveLength(0);

    // Multipart that is not well-formed is the client's error (400), never a 500.
    for (const [contentType, body] of [
      [
        'multipart/form-data; boundary=xyz',
        '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 cut',
      ],
      ['multipart/form-data', 'no boundary at all'],
      ['multipart/form-data; boundary=xyz', 'garbage without a boundary line'],
      [
        'multipart/form-data; boundary=xyz',
        '--xyz\r\nContent-Disposition: form-data; name="__proto__"\r\n\r\nx\r\n--xyz--\r\n',
      ],
    ]) {
      const r = await t.http
        .post(`/v1/complaints/${tk.id}/attachments`)
        .set(tk.consumer)
        .set('content-type', contentType)
        .send(body);
      expect([r.status, r.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    }

    // Multipart stays refused (415) on every other route.
    const elsewhere = await t.http
      .post(`/v1/complaints/${tk.id}/messages`)
      .set(tk.consumer)
      .field('body', 'hello');
    expect(elsewhere.status).toBe(415);
  });
});
