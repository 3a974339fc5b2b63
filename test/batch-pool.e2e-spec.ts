/*
 * A receipt batch holds one pool connection for its transaction. Resolving its payee accounts on
 * a second pool connection made it wait for the pool while holding part of it: with as many
 * batches at once as the pool has connections (the receipts suite sends 25 to a pool of 20), every
 * connection was held by a batch waiting for another one, forever — seen as the whole receipts
 * suite timing out on a loaded machine. Here the pool has one connection, so a single batch shows
 * it: without the lookup on the batch's own connection, the request never ends.
 */
import { DEADLOCK_DETECTED, pgCode } from '@app/shared';
import { chunkedCopyTransaction } from '../libs/receipts/src/batch-tx';
import { createMerchantWithStore } from './factories/directory.factory';
import { genericReceipt, postBatch, uniqueTradeNo } from './factories/receipts.factory';
import { startTestApp, TestApp } from './helpers/test-app';

describe('receipt batches never wait for a second pool connection', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ DATABASE_POOL_SIZE: '1', BATCH_MAX_CONCURRENT: '8' });
  });
  afterAll(async () => {
    await t?.close();
    delete process.env.DATABASE_POOL_SIZE;
    delete process.env.BATCH_MAX_CONCURRENT;
  });

  it('a pool of one connection: batches with accounts to resolve are stored (known and unknown accounts)', async () => {
    const shop = await createMerchantWithStore(t, { regionCode: '330106' });
    const prefix = uniqueTradeNo('POOL1');
    const body = Array.from({ length: 3 }, (_, i) =>
      JSON.stringify(
        genericReceipt({
          tradeNo: `${prefix}-${i}`,
          accountId: i === 2 ? 'unknown-account' : shop.account('sunmi-pos'),
        }),
      ),
    ).join('\n');
    // Without the fix this request never ends: fail fast instead of at Jest's timeout.
    const res = await postBatch(t, body).timeout(15_000);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ created: 3, duplicates: 0, rejected: [] });
    const rows: { trade_no: string; store_id: string | null }[] = await t.db.query(
      `SELECT trade_no, store_id FROM receipts WHERE provider = 'sunmi-pos' AND trade_no LIKE $1
        ORDER BY trade_no`,
      [`${prefix}%`],
    );
    expect(rows.map((r) => r.store_id)).toEqual([shop.store.id, shop.store.id, null]);
    // Two at once on the one connection: both answered, one after the other.
    const [a, b] = await Promise.all(
      ['A', 'B'].map((k) =>
        postBatch(
          t,
          JSON.stringify(genericReceipt({ tradeNo: uniqueTradeNo(`POOL1${k}`) })),
        ).timeout(15_000),
      ),
    );
    expect([a.status, b.status]).toEqual([200, 200]);
  });

  it('a lookup queued behind a failing chunk does not hide the failure: a deadlock stays a deadlock (so it is run again)', async () => {
    let storing!: () => void;
    const storeStarted = new Promise<void>((resolve) => (storing = resolve));
    const run = chunkedCopyTransaction<number, number>(t.db, {
      begin: 'CREATE TEMP TABLE batch_pool_probe (n int) ON COMMIT DROP',
      copy: 'COPY batch_pool_probe (n) FROM STDIN',
      chunkLines: 1,
      lines: [1, 2],
      prepare: async ([n], client) => {
        // Chunk 2's lookup is queued on the client after chunk 1's failing statement.
        if (n === 2) {
          await storeStarted;
          await client.query('SELECT 1');
        }
        return { rows: `${n}\n`, context: n };
      },
      store: async (client, n) => {
        if (n !== 1) return;
        storing();
        await client.query(
          `DO $$ BEGIN RAISE EXCEPTION 'as a crossing batch' USING ERRCODE = 'deadlock_detected'; END $$`,
        );
      },
    });
    const e: unknown = await run.then(
      () => null,
      (x: unknown) => x,
    );
    // Before: 25P02 (the lookup's "current transaction is aborted"), which retryOnDeadlock skips.
    expect(pgCode(e)).toBe(DEADLOCK_DETECTED);
    // The connection went back to the pool usable (a pool of one: this would wait otherwise).
    expect(await t.db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});
