/*
 * Issue 14's demo story, end to end over HTTP: a consumer attaches a photo with GPS, escalates,
 * fills the case packet; an officer sees the photo without GPS, downloads the packet PDF and
 * declines; the consumer appeals; another officer overturns; the trail shows all of it and
 * verifies against a signed checkpoint (the worker's checkpoint run, at an injected instant).
 * Region codes of this suite: Hainan (46xxxx, random).
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { CheckpointsService } from '../libs/complaints/src';
import type { SignedCheckpoint } from '../libs/complaints/src';
import { trailVerify } from '../scripts/trail-verify';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import {
  COMPLAINANT,
  createOffice,
  createShop,
  Shop,
  ticketIn,
} from './factories/complaint.factory';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function binary(res: unknown, cb: (err: Error | null, body: Buffer) => void) {
  const stream = res as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
  stream.on('error', (e: Error) => cb(e, Buffer.alloc(0)));
}

describe('the evidence demo story (issue 14, "Done when")', () => {
  let t: TestApp;
  let shop: Shop;
  let officeId: string;
  const region = `46${String(randomInt(1000, 9999))}`;
  const keys = generateKeyPairSync('ed25519');
  const officer = (sub: string) => bearer(t.token({ role: 'regulator', sub, officeId }));

  beforeAll(async () => {
    t = await startTestApp({
      RATE_LIMIT: '100000',
      TRAIL_SIGNING_KEY: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      CHECKPOINT_INTERVAL: '1h',
    });
    officeId = (await createOffice(t, [region], '海口市市场监督管理局')).id;
    shop = await createShop(t, region);
  });
  afterAll(() => t.close());

  it('photo → escalate → packet → officer (no GPS, PDF) declines → appeal → another officer overturns → trail verifies against a checkpoint', async () => {
    const tk = await ticketIn(t, shop, 'in_negotiation');

    // 1. The consumer attaches a phone photo carrying GPS and the device.
    const photo = await sharp({
      create: { width: 320, height: 240, channels: 3, background: '#3a6' },
    })
      .jpeg()
      .withExif({
        IFD0: { Make: 'DemoPhone', Model: 'DP-9' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '20/1 2/1 0/1',
          GPSLongitudeRef: 'E',
          GPSLongitude: '110/1 20/1 0/1',
        },
      })
      .toBuffer();
    const up = await t.http
      .post(`/v1/complaints/${tk.id}/attachments`)
      .set(tk.consumer)
      .field('note', '收到时包装已破损')
      .attach('file', photo, 'damaged.jpg');
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ sha256: sha256(photo), metadataStripped: true });

    // 2. Escalates, then fills the packet from the ticket page.
    const esc = await t.http
      .post(`/v1/complaints/${tk.id}/escalate`)
      .set(tk.consumer)
      .send({ reason: 'The merchant keeps asking for more photos and offers nothing.' });
    expect(esc.status).toBe(200);
    expect(esc.body.status).toBe('escalated');
    await t.http
      .put(`/v1/complaints/${tk.id}/complainant`)
      .set(tk.consumer)
      .send(COMPLAINANT)
      .expect(204);
    const mine = await t.http
      .get(`/v1/complaints/${tk.id}/case-packet`)
      .set(tk.consumer)
      .expect(200);
    expect(mine.body).toMatchObject({ complete: true, missing: [] });
    expect(mine.body.attachments).toEqual([
      expect.objectContaining({ id: up.body.id, sha256: sha256(photo) }),
    ]);

    // 3. Officer A sees the photo: the consumer's original is theirs to fetch, but the listing
    // and the default download hold what the office needs. Here: the merchant's copy has no
    // GPS, and the officer may fetch the original (the regulator keeps the hash on the trail).
    const a = officer('officer-a');
    const listed = await t.http.get(`/v1/complaints/${tk.id}/attachments`).set(a).expect(200);
    expect(listed.body.items).toEqual([expect.objectContaining({ id: up.body.id })]);
    const asMerchant = await t.http
      .get(`/v1/complaints/${tk.id}/attachments/${up.body.id}`)
      .set(shop.staff)
      .buffer(true)
      .parse(binary as never);
    expect(asMerchant.status).toBe(200);
    expect((await sharp(asMerchant.body as Buffer).metadata()).exif).toBeUndefined();
    const asOfficer = await t.http
      .get(`/v1/complaints/${tk.id}/attachments/${up.body.id}`)
      .set(a)
      .buffer(true)
      .parse(binary as never);
    expect(asOfficer.status).toBe(200);
    const seen = await sharp(asOfficer.body as Buffer).metadata();
    expect(seen.format).toBe('jpeg');
    expect(seen.exif).toBeUndefined(); // the officer's default view: no GPS
    const original = await t.http
      .get(`/v1/complaints/${tk.id}/attachments/${up.body.id}?original=true`)
      .set(a)
      .buffer(true)
      .parse(binary as never);
    expect(sha256(original.body as Buffer)).toBe(sha256(photo));

    // 4. Downloads the packet as a PDF: the merchant, the complainant and the head hash in it.
    const pdf = await t.http
      .get(`/v1/complaints/${tk.id}/case-packet`)
      .set(a)
      .set('accept', 'application/pdf')
      .buffer(true)
      .parse(binary as never);
    expect(pdf.status).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    const packet = await t.http.get(`/v1/complaints/${tk.id}/case-packet`).set(a).expect(200);
    const dir = mkdtempSync(join(tmpdir(), 'story-'));
    try {
      const file = join(dir, 'packet.pdf');
      writeFileSync(file, pdf.body as Buffer);
      const text = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
      expect(text).toContain(COMPLAINANT.realName);
      expect(text).toContain(packet.body.respondent.name);
      expect(text).toContain(sha256(photo));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // 5. Declines.
    const dec = await t.http
      .post(`/v1/complaints/${tk.id}/decline`)
      .set(a)
      .send({ reason: 'no_clear_claim', detail: 'The photo does not show the defect claimed.' });
    expect(dec.status).toBe(200);
    expect(dec.body.status).toBe('declined');

    // 6. The consumer appeals (and may add evidence while the appeal runs).
    const ap = await t.http
      .post(`/v1/complaints/${tk.id}/appeal`)
      .set(tk.consumer)
      .send({ reason: 'The second photo shows the crack clearly; please look again.' });
    expect(ap.status).toBe(200);
    expect(ap.body.status).toBe('appealed');
    const more = await t.http
      .post(`/v1/complaints/${tk.id}/attachments`)
      .set(tk.consumer)
      .attach('file', photo, 'crack-closeup.jpg');
    expect(more.status).toBe(201);

    // 7. The officer who declined may not decide the appeal; another officer overturns.
    const self = await t.http
      .post(`/v1/complaints/${tk.id}/appeal/decision`)
      .set(a)
      .send({ outcome: 'overturned', note: 'Reviewing my own decision.' });
    expect(self.status).toBe(403);
    const b = officer('officer-b');
    const over = await t.http.post(`/v1/complaints/${tk.id}/appeal/decision`).set(b).send({
      outcome: 'overturned',
      note: 'The close-up shows the defect; the case is accepted for review.',
    });
    expect(over.status).toBe(200);
    expect(over.body.status).toBe('escalated');

    // 8. The trail shows all of it, and verifies.
    const trail = (await t.http.get(`/v1/complaints/${tk.id}/events`).set(tk.consumer).expect(200))
      .body.items as { type: string; data: Record<string, unknown> }[];
    const types = trail.map((e) => e.type);
    for (const type of [
      'attachment_added',
      'escalated',
      'complainant_provided',
      'declined',
      'appealed',
      'appeal_decided',
    ]) {
      expect(types).toContain(type);
    }
    expect(types.indexOf('attachment_added')).toBeLessThan(types.indexOf('escalated'));
    expect(types.lastIndexOf('attachment_added')).toBeGreaterThan(types.indexOf('appealed'));
    expect(trail.find((e) => e.type === 'attachment_added')!.data.sha256).toBe(sha256(photo));
    expect(trail.find((e) => e.type === 'appeal_decided')!.data).toMatchObject({
      outcome: 'overturned',
    });
    const verify = await t.http.get(`/v1/complaints/${tk.id}/events/verify`).set(tk.consumer);
    expect(verify.body).toEqual({ valid: true, length: trail.length });

    // 9. The worker's checkpoint run (at an instant of its own), then `npm run trail:verify`'s
    // check of the ticket over HTTP against the checkpoint as saved from the public list.
    const made = await t.app
      .get(CheckpointsService, { strict: false })
      .runOnce(new Date(Date.UTC(2033, 5, 1, randomInt(0, 24), 30)));
    expect(made).not.toBeNull();
    const listedCp = await t.http.get(`/v1/trail/checkpoints?after=${made!.seq - 1}&limit=1`);
    const saved: SignedCheckpoint = listedCp.body.items[0];
    expect(saved.seq).toBe(made!.seq);
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const result = await trailVerify({
      url: `http://127.0.0.1:${port}`,
      token: t.token({ role: 'consumer', sub: tk.consumerSub }),
      ticketId: tk.id,
      checkpoint: saved,
      trustedPublicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.valid).toBe(true);
  }, 120_000);
});
