/*
 * A single signed notification is stored in two PostgreSQL statements (receipts.service.ts
 * `ingest`): the account's store (the directory's read), then INGEST_ONE — the key claim, the
 * receipt, the link of refunds that came before it and the receipt as the API shows it, in one
 * statement. A re-delivery still answers the stored receipt. Both are sent as named statements
 * (preparedOn): PostgreSQL parses and plans them once per connection.
 */
import { startTestApp, TestApp } from './helpers/test-app';
import { namedStatementsOf, statementsOf } from './helpers/pg-statements';
import {
  genericReceipt,
  postGeneric,
  sendAlipay,
  alipayParams,
} from './factories/receipts.factory';

describe('single receipt intake: two statements', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('a new generic receipt: the store lookup and one write that answers the receipt', async () => {
    const body = genericReceipt();
    let res: { status: number; body: Record<string, unknown> } | undefined;
    const sent = await statementsOf(async () => {
      res = await postGeneric(t, body);
    });
    expect(res?.status).toBe(201);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/FROM payment_accounts/);
    expect(sent[1]).toMatch(/^\s*WITH k AS \(\s*INSERT INTO receipt_keys/);
    // The answer is the stored receipt, as GET shows it to an admin.
    const again = await postGeneric(t, body).expect(200);
    expect(again.body).toEqual(res?.body);
    expect(res?.body).toMatchObject({ tradeNo: body.tradeNo, refundedMinor: 0, complaintId: null });
  });

  it('a new Alipay notification: two statements too', async () => {
    const params = alipayParams();
    const sent = await statementsOf(() => sendAlipay(t, params).expect(200));
    expect(sent).toHaveLength(2);
    const rows: { n: number }[] = await t.db.query(
      `SELECT count(*)::int AS n FROM receipts WHERE provider = 'alipay' AND trade_no = $1`,
      [params.trade_no],
    );
    expect(rows[0].n).toBe(1);
  });

  it('both statements are named, under the same names for every new receipt of either route', async () => {
    const names: (string | undefined)[][] = [];
    for (let i = 0; i < 2; i++) {
      const generic = await namedStatementsOf(() => postGeneric(t, genericReceipt()).expect(201));
      const alipay = await namedStatementsOf(() => sendAlipay(t, alipayParams()).expect(200));
      for (const sent of [generic, alipay]) {
        expect(sent).toHaveLength(2);
        for (const s of sent) expect(s.name).toMatch(/^hj\d+_[0-9a-f]{24}$/);
        names.push(sent.map((s) => s.name));
      }
    }
    expect(new Set(names.map((n) => n.join(' '))).size).toBe(1);
  });
});
