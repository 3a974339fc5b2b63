/*
 * The keys of the partitioned receipts and refunds, claimed once (migrations/1764900000000-
 * KeyClaimsOnce.ts), and the refunds' gate (refundGateLock): a statement that claimed its keys
 * itself marks only itself; every other writer is still checked; a batch holds one lock and
 * single refunds wait for it; a key taken by a writer outside the gate runs the batch again.
 */
import { randomBytes } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { keysClaimedHere } from '../libs/receipts/src/batch-tx';
import { refundGateLock } from '../libs/receipts/src/refunds/refund-rows';
import { signHmac } from '../libs/receipts/src/verifiers/test-signers';
import { genericReceipt, postGeneric } from './factories/receipts.factory';
import { genericRefund, postRefund } from './factories/refunds.factory';
import { HMAC_SECRET, startTestApp, TestApp } from './helpers/test-app';

jest.setTimeout(60_000);

const RAW_REFUND = (id = 'gen_random_uuid()') => `
  INSERT INTO refunds (id, provider, refund_no, trade_no, amount_minor, currency, refunded_at,
                       fingerprint, raw, raw_content_type)
  VALUES (${id}, 'sunmi-pos', $1, $2, 100, 'CNY', now(), repeat('0', 64), '{}', 'application/json')`;

/** A statement that claims the key itself and marks itself (as the batch imports do). */
const CLAIMED_REFUND = `
  WITH t AS (SELECT gen_random_uuid() AS id, $1::text AS refund_no, $2::text AS trade_no,
                    now() AS refunded_at),
  k AS (INSERT INTO refund_keys (provider, refund_no, refund_id, refunded_at)
        SELECT 'sunmi-pos', refund_no, id, refunded_at FROM t
        ON CONFLICT (provider, refund_no) DO NOTHING RETURNING refund_id)
  INSERT INTO refunds (id, provider, refund_no, trade_no, amount_minor, currency, refunded_at,
                       fingerprint, raw, raw_content_type)
  SELECT t.id, 'sunmi-pos', t.refund_no, t.trade_no, 100, 'CNY', t.refunded_at, repeat('0', 64),
         '{}', 'application/json'
    FROM t JOIN k ON k.refund_id = t.id
   WHERE ${keysClaimedHere('refunds')}`;

const refundNo = () => `RK${randomBytes(6).toString('hex')}`;

describe('keys claimed once; the refunds gate', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  async function inTransaction(run: (qr: QueryRunner) => Promise<void>): Promise<void> {
    const qr = t.db.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      await run(qr);
    } finally {
      if (qr.isTransactionActive) await qr.rollbackTransaction();
      await qr.release();
    }
  }

  /** Polls pg_locks until some backend waits for a lock of `kind` (advisory, transactionid). */
  async function untilSomeoneWaitsFor(kind: string): Promise<void> {
    for (;;) {
      const [{ n }] = await t.db.query(
        `SELECT count(*)::int AS n FROM pg_locks
          WHERE NOT granted AND locktype = $1
            AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())`,
        [kind],
      );
      if (n > 0) return;
      await new Promise((r) => setImmediate(r));
    }
  }

  it('a statement that claimed its keys is skipped by the trigger; its marker is gone for the next statement', async () => {
    await inTransaction(async (qr) => {
      const no = refundNo();
      await qr.query(CLAIMED_REFUND, [no, 'T1']);
      const [{ marker }] = await qr.query(
        `SELECT current_setting('hejie.refunds_keys_claimed', true) AS marker`,
      );
      expect(marker).toBe('');
      // A plain insert of the same key later in the same transaction is still checked.
      await expect(qr.query(RAW_REFUND(), [no, 'T2'])).rejects.toMatchObject({
        code: '23505',
        constraint: 'refund_keys_pkey',
      });
    });
  });

  it("a marker set by hand (not the statement's own) does not exempt a plain INSERT", async () => {
    const no = refundNo();
    await t.db.query(RAW_REFUND(), [no, 'T1']);
    await inTransaction(async (qr) => {
      await qr.query(`SET LOCAL hejie.refunds_keys_claimed = '2026-01-01 00:00:00+00'`);
      await expect(qr.query(RAW_REFUND(), [no, 'T2'])).rejects.toMatchObject({ code: '23505' });
    });
    await inTransaction(async (qr) => {
      // Even the current statement's time stamp, set in an earlier statement, is not this one's.
      await qr.query(
        `SELECT set_config('hejie.receipts_keys_claimed', statement_timestamp()::text, true)`,
      );
      const r = genericReceipt();
      const raw = `INSERT INTO receipts (provider, trade_no, payer_id, account_id, amount_minor, currency,
                                         paid_at, subject, fingerprint, raw_notification, raw_content_type)
                   VALUES ('sunmi-pos', $1, 'p', 'a', 100, 'CNY', $2, 's', repeat('0', 64), '{}', 'j')`;
      await qr.query(raw, [r.tradeNo, '2026-11-01T00:00:00Z']);
      await expect(qr.query(raw, [r.tradeNo, '2026-10-01T00:00:00Z'])).rejects.toMatchObject({
        code: '23505',
        constraint: 'receipt_keys_pkey',
      });
    });
  });

  it('two rows of one plain INSERT with one key, and a COPY-like multi-row insert of new keys', async () => {
    const [a, b] = [refundNo(), refundNo()];
    await expect(
      t.db.query(
        `INSERT INTO refunds (provider, refund_no, trade_no, amount_minor, currency, refunded_at,
                              fingerprint, raw, raw_content_type)
         SELECT 'sunmi-pos', $1, 'T' || g, 100, 'CNY', now() - g * interval '40 days',
                repeat('0', 64), '{}', 'j' FROM generate_series(1, 2) g`,
        [a],
      ),
    ).rejects.toMatchObject({ code: '23505' });
    await t.db.query(
      `INSERT INTO refunds (provider, refund_no, trade_no, amount_minor, currency, refunded_at,
                            fingerprint, raw, raw_content_type)
       SELECT 'sunmi-pos', $1 || g, 'T', 100, 'CNY', now(), repeat('0', 64), '{}', 'j'
         FROM generate_series(1, 50) g`,
      [b],
    );
    const [{ n }] = await t.db.query(
      `SELECT count(*)::int AS n FROM refund_keys k JOIN refunds f ON f.id = k.refund_id
        WHERE k.provider = 'sunmi-pos' AND k.refund_no LIKE $1 || '%'`,
      [b],
    );
    expect(n).toBe(50);
  });

  it('a single refund waits while a batch holds the gate, then is stored', async () => {
    const receipt = genericReceipt({ amountMinor: 5000 });
    await postGeneric(t, receipt).expect(201);
    const holder = t.db.createQueryRunner();
    await holder.connect();
    await holder.query(`BEGIN; ${refundGateLock('exclusive')}`);
    let answered = false;
    const single = postRefund(
      t,
      genericRefund(receipt.tradeNo as string, { amountMinor: 1000 }),
    ).then((res) => {
      answered = true;
      return res;
    });
    await untilSomeoneWaitsFor('advisory');
    expect(answered).toBe(false);
    await holder.query('COMMIT');
    await holder.release();
    expect((await single).status).toBe(201);
  });

  it('a refund key taken outside the gate while a batch runs: the batch runs again and reports the line', async () => {
    const receipt = genericReceipt({ amountMinor: 90000 });
    await postGeneric(t, receipt).expect(201);
    const tradeNo = receipt.tradeNo as string;
    const taken = genericRefund(tradeNo, { amountMinor: 1000 });
    const fresh = genericRefund(tradeNo, { amountMinor: 2000 });
    // A writer outside the gate holds the key, uncommitted, before the batch starts.
    const outside = t.db.createQueryRunner();
    await outside.connect();
    await outside.query('BEGIN');
    await outside.query(RAW_REFUND(), [taken.refundNo, 'another-trade']);
    const body = [taken, fresh].map((l) => JSON.stringify(l)).join('\n');
    const batch = t.http
      .post('/v1/refunds/batch')
      .set('content-type', 'application/x-ndjson')
      .set('x-hejie-signature', signHmac(body, HMAC_SECRET))
      .send(body)
      .then((res) => res);
    // The batch's insert waits for that key; the writer commits; the trigger refuses the key.
    await untilSomeoneWaitsFor('transactionid');
    await outside.query('COMMIT');
    await outside.release();
    const res = await batch;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      created: 1,
      duplicates: 0,
      rejected: [{ line: 1, code: 'RECEIPT_CONFLICT' }],
    });
    const stored = await t.db.query(
      `SELECT refund_no, trade_no FROM refunds WHERE refund_no = ANY($1) ORDER BY amount_minor`,
      [[taken.refundNo, fresh.refundNo]],
    );
    expect(stored).toEqual([
      { refund_no: taken.refundNo, trade_no: 'another-trade' },
      { refund_no: fresh.refundNo, trade_no: tradeNo },
    ]);
  });

  it("a single refund's raw body is stored byte for byte (sent as a parameter of hejie_record_refund)", async () => {
    const receipt = genericReceipt({ amountMinor: 5000 });
    await postGeneric(t, receipt).expect(201);
    const refund = genericRefund(receipt.tradeNo as string, { amountMinor: 700 });
    // JSON escapes put backslashes in the raw text; the decoded refundNo is the plain one.
    const raw = JSON.stringify(refund).replace(
      `"refundNo":"${refund.refundNo}"`,
      `"refundNo" : "${refund.refundNo.slice(0, -1)}\\u00${refund.refundNo
        .charCodeAt(refund.refundNo.length - 1)
        .toString(16)}"`,
    );
    expect(raw).toContain('\\u00');
    expect((await postRefund(t, raw)).status).toBe(201);
    const [row] = await t.db.query(`SELECT raw, refund_no FROM refunds WHERE refund_no = $1`, [
      refund.refundNo,
    ]);
    expect(row).toEqual({ raw, refund_no: refund.refundNo });
  });
});
