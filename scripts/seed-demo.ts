/**
 * Seeds a small Hangzhou through the public API, as real clients would: offices, merchants with
 * stores and payment accounts, and receipts through each provider route (Alipay RSA2, WeChat
 * Pay v3, generic HMAC). Runs against the API started by scripts/demo.sh; idempotent.
 */
import { readFileSync } from 'node:fs';
import { creditCodeCheckChar } from '../libs/directory/src/credit-code';
import {
  buildWechatpayNotification,
  signAlipayNotification,
  signHmac,
} from '../libs/receipts/src/verifiers/test-signers';

const base = `http://127.0.0.1:${process.env.PORT ?? 3000}`;

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const h = new Headers({ 'content-type': 'application/json' });
  for (const [k, v] of Object.entries(headers)) h.set(k, v);
  const res = await fetch(base + path, {
    method,
    headers: h,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // plain text (Alipay's "success")
  }
  return { status: res.status, body: json as Record<string, unknown> & { items?: unknown[] } };
}

function code(first17: string): string {
  return first17 + creditCodeCheckChar(first17);
}

const OFFICES = [
  { name: '杭州市市场监督管理局', regionCodes: ['3301'] },
  { name: '杭州市上城区市场监督管理局', regionCodes: ['330102'] },
  { name: '杭州市西湖区市场监督管理局', regionCodes: ['330106'] },
  { name: '杭州市滨江区市场监督管理局', regionCodes: ['330108'] },
];

const MERCHANTS = [
  {
    name: '西湖龙井茶庄有限公司',
    creditCode: code('91330106MA2H00001'),
    store: { name: '龙井茶庄 北山街店', address: '杭州市西湖区北山街32号', regionCode: '330106' },
    accounts: {
      alipay: '2088000000100001',
      wechatpay: '1900000101',
      'sunmi-pos': 'pos-longjing-01',
    },
  },
  {
    name: '湖滨数码电器有限公司',
    creditCode: code('91330102MA2H00002'),
    store: { name: '湖滨数码 延安路店', address: '杭州市上城区延安路258号', regionCode: '330102' },
    accounts: { alipay: '2088000000100002', wechatpay: '1900000102', 'sunmi-pos': 'pos-hubin-01' },
  },
  {
    name: '滨江健身管理有限公司',
    creditCode: code('91330108MA2H00003'),
    store: {
      name: '滨江健身 江南大道店',
      address: '杭州市滨江区江南大道1088号',
      regionCode: '330108',
    },
    accounts: {
      alipay: '2088000000100003',
      wechatpay: '1900000103',
      'sunmi-pos': 'pos-binjiang-01',
    },
  },
  {
    name: '余杭鲜果连锁有限公司',
    creditCode: code('91330110MA2H00004'),
    store: {
      name: '鲜果连锁 良渚店',
      address: '杭州市余杭区良渚街道古墩路1号',
      regionCode: '330110',
    },
    accounts: {
      alipay: '2088000000100004',
      wechatpay: '1900000104',
      'sunmi-pos': 'pos-xianguo-01',
    },
  },
];

export const DEMO_CONSUMERS = {
  alipay: 'alipay:2088000000000001',
  wechatpay: 'wechatpay:oDemoConsumer0001',
};

function shanghai(d: Date): string {
  const s = new Date(d.getTime() + 8 * 3600_000).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 19)}`;
}

async function main(): Promise<void> {
  const admin = await call('POST', '/v1/auth/dev-token', { role: 'admin', sub: 'demo-admin' });
  if (admin.status !== 200) throw new Error(`dev token refused: ${JSON.stringify(admin.body)}`);
  const auth = { authorization: `Bearer ${String(admin.body.token)}` };

  const existing = await call('GET', '/v1/merchants?limit=100', undefined, auth);
  if ((existing.body.items ?? []).length > 0) {
    console.log('demo data already present; skipping the seed');
    return;
  }

  for (const office of OFFICES) await call('POST', '/v1/offices', office, auth);

  const now = Date.now();
  let n = 0;
  for (const m of MERCHANTS) {
    const merchant = await call(
      'POST',
      '/v1/merchants',
      { name: m.name, creditCode: m.creditCode },
      auth,
    );
    if (merchant.status !== 201)
      throw new Error(`merchant refused: ${JSON.stringify(merchant.body)}`);
    const store = await call(
      'POST',
      `/v1/merchants/${String(merchant.body.id)}/stores`,
      {
        ...m.store,
        paymentAccounts: Object.entries(m.accounts).map(([provider, accountId]) => ({
          provider,
          accountId,
        })),
      },
      auth,
    );
    if (store.status !== 201) throw new Error(`store refused: ${JSON.stringify(store.body)}`);

    // One receipt per provider route for each merchant.
    n++;
    const paid = new Date(now - n * 3 * 3600_000);
    const alipayBody = signAlipayNotification(
      {
        notify_time: shanghai(new Date()),
        notify_type: 'trade_status_sync',
        notify_id: `demo-notify-${n}`,
        app_id: '2021000000000000',
        charset: 'utf-8',
        version: '1.0',
        trade_no: `2026${String(n).padStart(24, '0')}`,
        out_trade_no: `DEMO-A-${n}`,
        buyer_id: DEMO_CONSUMERS.alipay.slice('alipay:'.length),
        seller_id: m.accounts.alipay,
        total_amount: (88 + n * 11.5).toFixed(2),
        trade_status: 'TRADE_SUCCESS',
        subject: `${m.store.name} 消费`,
        gmt_payment: shanghai(paid),
      },
      readFileSync('.demo/alipay-private.pem', 'utf8'),
    );
    const a = await call('POST', '/v1/receipts/alipay', alipayBody, {
      'content-type': 'application/x-www-form-urlencoded',
    });

    const wx = buildWechatpayNotification({
      transaction: {
        mchid: m.accounts.wechatpay,
        appid: 'wxdemo000000000001',
        out_trade_no: `DEMO-W-${n}`,
        transaction_id: `42000000002026${String(n).padStart(14, '0')}`,
        trade_type: 'JSAPI',
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
        success_time: new Date(paid.getTime() - 3600_000).toISOString().replace('Z', '+00:00'),
        payer: { openid: DEMO_CONSUMERS.wechatpay.slice('wechatpay:'.length) },
        amount: {
          total: 2990 + n * 100,
          payer_total: 2990 + n * 100,
          currency: 'CNY',
          payer_currency: 'CNY',
        },
        attach: `${m.store.name} 小程序订单`,
      },
      apiV3Key: process.env.WECHATPAY_APIV3_KEY ?? '',
      privateKeyPem: readFileSync('.demo/wechatpay-private.pem', 'utf8'),
    });
    const w = await call('POST', '/v1/receipts/wechatpay', wx.body, wx.headers);

    const generic = JSON.stringify({
      provider: 'sunmi-pos',
      tradeNo: `POS-${n}-0001`,
      payerId: '2088000000000001',
      accountId: m.accounts['sunmi-pos'],
      amountMinor: 1500 + n * 250,
      currency: 'CNY',
      paidAt: new Date(paid.getTime() - 7200_000).toISOString(),
      subject: `${m.store.name} 门店收银`,
    });
    const g = await call('POST', '/v1/receipts', generic, {
      'x-hejie-signature': signHmac(generic, process.env.RECEIPT_HMAC_SECRET ?? ''),
    });
    console.log(`seeded ${m.name}: alipay ${a.status}, wechatpay ${w.status}, generic ${g.status}`);
  }
  console.log(
    `demo consumers: ${DEMO_CONSUMERS.alipay} (Alipay bills), ${DEMO_CONSUMERS.wechatpay} (WeChat Pay bills)`,
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
