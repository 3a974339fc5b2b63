/*
 * Signed trail checkpoints (API.md "Checkpoints"): one per interval with two workers racing,
 * public listing, proofs, and the insider who rewrites a ticket's whole chain in SQL — the chain
 * alone still verifies, the proof against a checkpoint handed out earlier does not.
 * Checkpoints here are made at fixed instants of 2031 (injected `now`, no waiting), each test in
 * its own hour bucket. Region codes of this suite: Shijiazhuang (1301), used by no other suite:
 * routing takes the most specific office in the Jest worker's shared database.
 */
import { generateKeyPairSync, verify as verifySignature, createPublicKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { baseDataSourceOptions } from '../libs/database/src/base-options';
import {
  CheckpointsService,
  createCheckpoint,
  nextEvent,
  readTrail,
  verifyAgainstCheckpoint,
} from '../libs/complaints/src';
import type { SignedCheckpoint, TrailEvent, TrailProof } from '../libs/complaints/src';
import { trailVerify } from '../scripts/trail-verify';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { FakeClock } from './helpers/fake-clock';
import { startTestWorker } from './helpers/test-worker';
import { createOffice, createShop, Shop, ticketIn } from './factories/complaint.factory';

const HOUR = 3600_000;
const at = (hour: number) => new Date(Date.UTC(2031, 0, 1, hour, 30));

describe('trail checkpoints', () => {
  let t: TestApp;
  let shop: Shop;
  let officeId: string;
  let service: CheckpointsService;
  const keys = generateKeyPairSync('ed25519');
  const admin = () => bearer(t.token({ role: 'admin', sub: 'admin-trail' }));

  beforeAll(async () => {
    t = await startTestApp({
      RATE_LIMIT: '100000',
      TRAIL_SIGNING_KEY: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      CHECKPOINT_INTERVAL: '1h',
    });
    service = t.app.get(CheckpointsService, { strict: false });
    officeId = (await createOffice(t, ['1301'], '石家庄市市场监督管理局')).id;
    shop = await createShop(t, '130102');
  });
  afterAll(() => t.close());

  const proofOf = async (id: string, seq?: number): Promise<TrailProof> => {
    const r = await t.http
      .get(`/v1/complaints/${id}/events/proof${seq ? `?checkpoint=${seq}` : ''}`)
      .set(admin());
    expect(r.status).toBe(200);
    return r.body;
  };
  const eventsOf = async (id: string): Promise<TrailEvent[]> =>
    (await t.http.get(`/v1/complaints/${id}/events`).set(admin())).body.items;
  const publicCheckpoint = async (seq: number): Promise<SignedCheckpoint> => {
    const r = await t.http.get(`/v1/trail/checkpoints?after=${seq - 1}&limit=1`);
    expect(r.status).toBe(200);
    return r.body.items[0];
  };

  it('two workers racing for one interval make exactly one checkpoint', async () => {
    await ticketIn(t, shop, 'awaiting_merchant');
    const second = new DataSource(baseDataSourceOptions(process.env.DATABASE_URL!));
    await second.initialize();
    try {
      const now = at(1);
      const results = await Promise.all([
        createCheckpoint(t.db, keys.privateKey, now, HOUR),
        createCheckpoint(second, keys.privateKey, new Date(now.getTime() + 60_000), HOUR),
        createCheckpoint(t.db, keys.privateKey, new Date(now.getTime() + 120_000), HOUR),
      ]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      const [{ n }] = await t.db.query(
        'SELECT count(*)::int AS n FROM trail_checkpoints WHERE bucket = $1',
        [Math.floor(now.getTime() / HOUR)],
      );
      expect(n).toBe(1);
      // The next interval gets its own, chained to the previous root.
      const made = results.find((r) => r !== null)!;
      const next = await createCheckpoint(second, keys.privateKey, at(2), HOUR);
      expect(next).not.toBeNull();
      expect(next!.seq).toBe(made.seq + 1);
      expect(next!.prevRoot).toBe(made.root);
    } finally {
      await second.destroy();
    }
  });

  it('serves signed checkpoints publicly, with the exact signed text and pages', async () => {
    const made = (await service.runOnce(at(3)))!;
    expect(made).not.toBeNull();
    const r = await t.http.get(`/v1/trail/checkpoints?after=${made.seq - 1}`);
    expect(r.status).toBe(200);
    const cp: SignedCheckpoint = r.body.items[0];
    expect(cp.seq).toBe(made.seq);
    expect(Object.keys(JSON.parse(cp.signed))).toEqual(['seq', 'at', 'root', 'size', 'prevRoot']);
    expect(cp.signed).toBe(
      JSON.stringify({
        seq: cp.seq,
        at: cp.at,
        root: cp.root,
        size: cp.size,
        prevRoot: cp.prevRoot,
      }),
    );
    expect(cp.root).toMatch(/^[0-9a-f]{64}$/);
    const ok = verifySignature(
      null,
      Buffer.from(cp.signed, 'utf8'),
      createPublicKey(cp.publicKey),
      Buffer.from(cp.signature, 'base64'),
    );
    expect(ok).toBe(true);
    expect(cp.publicKey).toBe(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    // A second one, so there is a next page whichever tests ran before (jest --randomize).
    expect(await service.runOnce(at(9))).not.toBeNull();
    const page = await t.http.get('/v1/trail/checkpoints?limit=1');
    expect(page.body.items).toHaveLength(1);
    expect(page.body.nextCursor).toBe(String(page.body.items[0].seq));
    const rest = await t.http.get(`/v1/trail/checkpoints?limit=1&cursor=${page.body.nextCursor}`);
    expect(rest.body.items[0].seq).toBe(page.body.items[0].seq + 1);
    expect((await t.http.get('/v1/trail/checkpoints?after=x')).status).toBe(400);
    // Only this interval's: running again in the same hour makes nothing.
    expect(await service.runOnce(new Date(at(3).getTime() + 1000))).toBeNull();
  });

  it('commits only the tickets changed since the last checkpoint; proofs verify; strangers get 404', async () => {
    const quiet = await ticketIn(t, shop, 'awaiting_merchant');
    const busy = await ticketIn(t, shop, 'awaiting_merchant');
    const first = (await service.runOnce(at(4)))!;
    await t.http
      .post(`/v1/complaints/${busy.id}/messages`)
      .set(busy.consumer)
      .send({ body: 'Any news?' })
      .expect(201);
    const second = (await service.runOnce(at(5)))!;

    const quietProof = await proofOf(quiet.id);
    expect(quietProof.checkpoint.seq).toBe(first.seq); // not in the second: unchanged
    const busyProof = await proofOf(busy.id);
    expect(busyProof.checkpoint.seq).toBe(second.seq);
    expect(busyProof.eventCount).toBe(2);
    const older = await proofOf(busy.id, first.seq);
    expect(older.eventCount).toBe(1);

    for (const [id, proof, seq] of [
      [quiet.id, quietProof, first.seq],
      [busy.id, busyProof, second.seq],
      [busy.id, older, first.seq],
    ] as const) {
      const result = verifyAgainstCheckpoint({
        events: await eventsOf(id),
        proof,
        saved: await publicCheckpoint(seq),
      });
      expect(result).toEqual({ valid: true, checks: expect.any(Array) });
    }
    // The consumer may fetch the proof of their own ticket; a stranger is told it does not exist.
    await t.http.get(`/v1/complaints/${busy.id}/events/proof`).set(busy.consumer).expect(200);
    const stranger = bearer(t.token({ role: 'consumer', sub: 'alipay:stranger' }));
    await t.http.get(`/v1/complaints/${busy.id}/events/proof`).set(stranger).expect(404);
    const fresh = await ticketIn(t, shop, 'awaiting_merchant');
    const none = await t.http.get(`/v1/complaints/${fresh.id}/events/proof`).set(fresh.consumer);
    expect(none.status).toBe(404);
  });

  it('an insider who rebuilds a whole chain in SQL passes verify, but not the earlier checkpoint', async () => {
    const regulator = bearer(t.token({ role: 'regulator', sub: 'officer-t', officeId }));
    const tk = await ticketIn(t, shop, 'escalated');
    await t.http
      .post(`/v1/complaints/${tk.id}/decline`)
      .set(regulator)
      .send({ reason: 'no_clear_claim' })
      .expect(200);
    const made = (await service.runOnce(at(6)))!;
    // The regulator keeps a copy of the public checkpoint outside Hejie.
    const saved = await publicCheckpoint(made.seq);

    // The insider: superuser, triggers off, rewrites what the consumer asked for and rebuilds
    // every hash after it, and the head on the ticket row.
    const original = await readTrail(t.db.manager, tk.id);
    const forged: TrailEvent[] = [];
    for (const e of original) {
      const data =
        e.seq === 1 ? { ...(e.data as object), description: 'I only wanted an apology.' } : e.data;
      const head = forged.at(-1);
      const link = { event_count: head?.seq ?? 0, head_hash: head?.hash ?? null };
      forged.push(nextEvent(link, e.type, e.actor, new Date(e.at), data));
    }
    await t.db.transaction(async (tx) => {
      await tx.query(`SET LOCAL session_replication_role = replica`);
      for (const e of forged) {
        await tx.query(
          `UPDATE complaint_events SET data = $3, prev_hash = $4, hash = $5 WHERE complaint_id = $1 AND seq = $2`,
          [tk.id, e.seq, JSON.stringify(e.data), e.prevHash, e.hash],
        );
      }
      await tx.query(`UPDATE complaints SET head_hash = $2, description = $3 WHERE id = $1`, [
        tk.id,
        forged.at(-1)!.hash,
        'I only wanted an apology.',
      ]);
    });

    // The chain alone cannot tell.
    const v = await t.http.get(`/v1/complaints/${tk.id}/events/verify`).set(admin());
    expect(v.body).toEqual({ valid: true, length: original.length });

    // Against the saved checkpoint: the chain's head is not the one committed.
    const proof = await proofOf(tk.id, saved.seq);
    const result = verifyAgainstCheckpoint({ events: await eventsOf(tk.id), proof, saved });
    expect(result.valid).toBe(false);
    expect(result.checks.find((c) => c.name === 'chain')!.ok).toBe(true);
    expect(result.checks.find((c) => c.name === 'head')!.ok).toBe(false);

    // Rewriting the stored leaf too: the audit path no longer leads to the signed root.
    await t.db.query(
      `UPDATE trail_checkpoint_leaves SET head_hash = $2 WHERE complaint_id = $1 AND checkpoint_seq = $3`,
      [tk.id, forged.at(-1)!.hash, saved.seq],
    );
    const forgedProof = await proofOf(tk.id, saved.seq);
    const again = verifyAgainstCheckpoint({
      events: await eventsOf(tk.id),
      proof: forgedProof,
      saved,
    });
    expect(again.valid).toBe(false);
    expect(again.checks.find((c) => c.name === 'head')!.ok).toBe(true);
    expect(again.checks.find((c) => c.name === 'proof')!.ok).toBe(false);

    // Nor can the insider sign a new checkpoint for the forged head with another key.
    const other = generateKeyPairSync('ed25519');
    const resigned = await createCheckpoint(t.db, other.privateKey, at(7), HOUR);
    const pinned = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const withOtherKey = verifyAgainstCheckpoint({
      events: await eventsOf(tk.id),
      proof: await proofOf(tk.id),
      saved: resigned!,
      trustedPublicKey: pinned,
    });
    expect(withOtherKey.checks.find((c) => c.name === 'signature')!.ok).toBe(false);
  });

  it('npm run trail:verify’s function checks a ticket over HTTP against a saved checkpoint', async () => {
    const tk = await ticketIn(t, shop, 'in_negotiation');
    const made = (await service.runOnce(at(8)))!;
    const saved = await publicCheckpoint(made.seq);
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const url = `http://127.0.0.1:${port}`;
    const ok = await trailVerify({
      url,
      token: t.token({ role: 'consumer', sub: tk.consumerSub }),
      ticketId: tk.id,
      checkpoint: saved,
    });
    expect(ok.checks.filter((c) => !c.ok)).toEqual([]);
    expect(ok.valid).toBe(true);
    // A tampered copy of the checkpoint (another root) fails on its signature.
    const tampered = {
      ...saved,
      root: 'f'.repeat(64),
      signed: saved.signed.replace(saved.root, 'f'.repeat(64)),
    };
    const bad = await trailVerify({
      url,
      token: t.token({ role: 'admin' }),
      ticketId: tk.id,
      checkpoint: tampered,
    });
    expect(bad.valid).toBe(false);
    expect(bad.checks.find((c) => c.name === 'signature')!.ok).toBe(false);
  });

  it('two workers: one checkpoint per CHECKPOINT_INTERVAL, chained, nothing failed', async () => {
    const [{ before }] = await t.db.query(
      'SELECT coalesce(max(seq), 0)::int AS before FROM trail_checkpoints',
    );
    const env = {
      TRAIL_SIGNING_KEY: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      CHECKPOINT_INTERVAL: '1h',
    };
    // Two workers in this process on one fake clock: each interval both run the round at once,
    // as two processes would when their timers enqueue the same bucket.
    const clock = new FakeClock();
    const workers = await Promise.all([startTestWorker(clock, env), startTestWorker(clock, env)]);
    try {
      for (let round = 0; round < 3; round++) {
        clock.advance('1h');
        await Promise.all(workers.map((w) => w.checkpoint()));
      }
      type Row = { seq: string; bucket: string; root: string; prev_root: string | null };
      const rows = (await t.db.query(
        `SELECT seq, bucket, root, prev_root FROM trail_checkpoints WHERE seq > $1 ORDER BY seq`,
        [before],
      )) as Row[];
      // One per bucket, consecutive seqs, each chained to the previous root.
      expect(rows).toHaveLength(3);
      expect(new Set(rows.map((r) => r.bucket)).size).toBe(3);
      for (let i = 1; i < rows.length; i++) {
        expect(Number(rows[i].seq)).toBe(Number(rows[i - 1].seq) + 1);
        expect(rows[i].prev_root).toBe(rows[i - 1].root);
      }
      const logs = workers.map((w) => w.log()).join('\n');
      expect(logs).not.toMatch(/uq_trail_checkpoints_bucket|duplicate key|failed/i);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });
});
