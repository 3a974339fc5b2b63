/**
 * Seeds a small Hangzhou through the public API, as real clients would: offices, merchants with
 * stores and payment accounts, and receipts through each provider route (Alipay RSA2, WeChat
 * Pay v3, generic HMAC); then tickets in several states (awaiting the merchant, in negotiation
 * with an offer, resolved, withdrawn, escalated, in mediation) driven with demo tokens, and
 * prints the demo sign-ins. Runs against the API started by scripts/demo.sh; idempotent.
 * After the live tickets, a 90-day history of closed tickets (scripts/demo-history.ts) is
 * written straight into DATABASE_URL with the app's own row shapes; the running worker drains
 * its outbox into the statistics.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'pg';
import sharp from 'sharp';
import { creditCodeCheckChar } from '../libs/directory/src/credit-code';
import { seedDemoHistory } from './demo-history';
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
    console.log('demo directory and receipts already present; skipping them');
  } else {
    await seedDirectoryAndReceipts(auth);
  }
  await seedTickets(auth);
  // After the live tickets: the worker drains the history's outbox while the visitor signs in.
  await seedHistory();
  await printSignIns(auth);
}

/** 90 days of closed tickets for the statistics (once; the worker drains them into rollups). */
async function seedHistory(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.log('DATABASE_URL is not set: no 90-day history');
    return;
  }
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    const started = Date.now();
    const h = await seedDemoHistory(pool);
    console.log(
      h.skipped
        ? '90-day history already present; skipping it'
        : `90-day history: ${h.tickets} closed tickets, ${h.events} trail events (${Date.now() - started} ms)`,
    );
  } finally {
    await pool.end();
  }
}

async function seedDirectoryAndReceipts(auth: Record<string, string>): Promise<void> {
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

// ---------------------------------------------------------------------------- tickets

type Identity = { role: string; sub: string; merchantId?: string; officeId?: string };
type Json = Record<string, any>;

/** The same identities the dashboards' demo sign-in offers. */
const staffOf = (merchantId: string): Identity => ({
  role: 'merchant',
  sub: `staff@${merchantId}`,
  merchantId,
});
const officerOf = (officeId: string): Identity => ({
  role: 'regulator',
  sub: `officer@${officeId}`,
  officeId,
});

async function tokenFor(identity: Identity): Promise<Record<string, string>> {
  const res = await call('POST', '/v1/auth/dev-token', identity);
  if (res.status !== 200) throw new Error(`dev token refused: ${JSON.stringify(res.body)}`);
  return { authorization: `Bearer ${String(res.body.token)}` };
}

/** A phone-style JPEG with camera and GPS EXIF, uploaded as evidence (multipart). */
async function attachPhoto(path: string, headers: Record<string, string>) {
  const photo = await sharp({
    create: { width: 640, height: 480, channels: 3, background: '#7a5c3e' },
  })
    .jpeg()
    .withExif({
      IFD0: { Make: 'DemoPhone', Model: 'P1' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '30/1 15/1 36/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '120/1 9/1 0/1',
      },
    })
    .toBuffer();
  const form = new FormData();
  form.append('note', '收到时的照片');
  form.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), '收货照片.jpg');
  const res = await fetch(base + path, { method: 'POST', headers, body: form });
  return { status: res.status, body: (await res.json()) as Json };
}

async function must(
  what: string,
  status: number,
  p: Promise<{ status: number; body: Json }>,
): Promise<Json> {
  const res = await p;
  if (res.status !== status)
    throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

interface Plan {
  consumer: keyof typeof DEMO_CONSUMERS;
  merchant: number; // index into MERCHANTS
  state:
    | 'awaiting_merchant'
    | 'offer'
    | 'resolved'
    | 'settling'
    | 'withdrawn'
    | 'escalated'
    | 'mediating'
    | 'declined';
  category: string;
  demand: { type: string; amountMinor?: number };
  description: string;
}

/** Seven tickets, one per state; the remaining bills are left for visitors to complain about. */
const PLANS: Plan[] = [
  {
    consumer: 'alipay',
    merchant: 0,
    state: 'awaiting_merchant',
    category: 'not_as_described',
    demand: { type: 'partial_refund', amountMinor: 5000 },
    description: '包装上写明前特级，收到的茶叶碎末很多，与描述不符。',
  },
  {
    consumer: 'alipay',
    merchant: 1,
    state: 'offer',
    category: 'quality',
    demand: { type: 'exchange' },
    description: '新买的蓝牙耳机左耳没有声音，要求换一副新的。',
  },
  {
    consumer: 'alipay',
    merchant: 2,
    state: 'resolved',
    category: 'service',
    demand: { type: 'refund', amountMinor: 3000 },
    description: '约好的私教课教练没有到场，也没有提前通知。',
  },
  {
    // Accepted, nothing refunded: settling until settleBy, then the worker escalates it.
    consumer: 'wechatpay',
    merchant: 2,
    state: 'settling',
    category: 'service',
    demand: { type: 'partial_refund', amountMinor: 2000 },
    description: '健身卡说好可以暂停一个月，前台却拒绝办理。',
  },
  {
    consumer: 'alipay',
    merchant: 3,
    state: 'withdrawn',
    category: 'quality',
    demand: { type: 'apology' },
    description: '水果有几个坏了，后来店员主动补给我了，撤回即可。',
  },
  {
    consumer: 'wechatpay',
    merchant: 0,
    state: 'escalated',
    category: 'overcharge',
    demand: { type: 'refund', amountMinor: 1000 },
    description: '结账时多收了十元包装费，事先没有告知。',
  },
  {
    consumer: 'wechatpay',
    merchant: 1,
    state: 'mediating',
    category: 'fraud',
    demand: { type: 'compensation', amountMinor: 9000 },
    description: '宣传为原装正品充电器，拆开发现是仿品，要求退一赔三。',
  },
  {
    // Declined by a duty officer: the consumer may appeal, and the office's demo officer (another
    // officer) decides the appeal.
    consumer: 'wechatpay',
    merchant: 3,
    state: 'declined',
    category: 'quality',
    demand: { type: 'refund', amountMinor: 2000 },
    description: '网上订的一箱橙子送到时一半已经发霉，商家不同意退款。',
  },
];

/**
 * Alipay's notification of a partial refund on a demo bill (refund_fee is the total refunded so
 * far; the trade stays TRADE_SUCCESS), signed with the demo's Alipay key: Hejie records the
 * refund and settles the ticket whose accepted offer it covers.
 */
async function sendAlipayRefund(receipt: Json, refundedTotalMinor: number): Promise<void> {
  const body = signAlipayNotification(
    {
      notify_time: shanghai(new Date()),
      notify_type: 'trade_status_sync',
      notify_id: `demo-refund-${String(receipt.tradeNo)}`,
      app_id: '2021000000000000',
      charset: 'utf-8',
      version: '1.0',
      trade_no: String(receipt.tradeNo),
      out_trade_no: `DEMO-REFUND-${String(receipt.tradeNo).slice(-6)}`,
      out_biz_no: `DEMO-RF-${String(receipt.tradeNo).slice(-6)}`,
      buyer_id: String(receipt.payerId).slice('alipay:'.length),
      seller_id: String(receipt.accountId),
      total_amount: (Number(receipt.amountMinor) / 100).toFixed(2),
      refund_fee: (refundedTotalMinor / 100).toFixed(2),
      gmt_payment: shanghai(new Date(String(receipt.paidAt))),
      gmt_refund: shanghai(new Date()),
      trade_status: 'TRADE_SUCCESS',
      subject: String(receipt.subject),
    },
    readFileSync('.demo/alipay-private.pem', 'utf8'),
  );
  const r = await call('POST', '/v1/receipts/alipay', body, {
    'content-type': 'application/x-www-form-urlencoded',
  });
  if (r.status !== 200) throw new Error(`refund notification refused: ${JSON.stringify(r.body)}`);
  console.log(`alipay refund notification for ${String(receipt.tradeNo)}: ${r.status}`);
}

async function seedTickets(auth: Record<string, string>): Promise<void> {
  const consumers = {
    alipay: await tokenFor({ role: 'consumer', sub: DEMO_CONSUMERS.alipay }),
    wechatpay: await tokenFor({ role: 'consumer', sub: DEMO_CONSUMERS.wechatpay }),
  };
  const mine = await call('GET', '/v1/complaints?limit=1', undefined, consumers.alipay);
  if ((mine.body.items ?? []).length > 0) {
    console.log('demo tickets already present; skipping them');
    return;
  }
  const merchants = (await call('GET', '/v1/merchants?limit=100', undefined, auth)).body
    .items as Json[];
  const byName = new Map(merchants.map((m) => [m.name as string, m.id as string]));
  const bills = {
    alipay: (await call('GET', '/v1/receipts?limit=100', undefined, consumers.alipay)).body
      .items as Json[],
    wechatpay: (await call('GET', '/v1/receipts?limit=100', undefined, consumers.wechatpay)).body
      .items as Json[],
  };

  // Bills taken by an earlier plan of this run (the list above was read before any ticket).
  const taken = new Set<unknown>();
  for (const plan of PLANS) {
    const merchantId = byName.get(MERCHANTS[plan.merchant].name);
    const receipt = bills[plan.consumer].find(
      (r) =>
        r.merchantId === merchantId &&
        !r.complaintId &&
        !taken.has(r.id) &&
        r.provider === plan.consumer,
    );
    if (receipt) taken.add(receipt.id);
    if (!merchantId || !receipt) {
      console.warn(`no bill for ${plan.state} (${MERCHANTS[plan.merchant].name}); skipped`);
      continue;
    }
    const consumer = consumers[plan.consumer];
    const staff = await tokenFor(staffOf(merchantId));
    const ticket = await must(
      'create ticket',
      201,
      call(
        'POST',
        '/v1/complaints',
        {
          receiptId: receipt.id,
          category: plan.category,
          demand: plan.demand,
          description: plan.description,
          contactPhone: '13800138000',
        },
        consumer,
      ),
    );
    const path = `/v1/complaints/${String(ticket.id)}`;
    if (plan.state === 'withdrawn') {
      await must(
        'withdraw',
        200,
        call('POST', `${path}/withdraw`, { reason: '已与店员当面解决' }, consumer),
      );
    }
    if (
      ['offer', 'resolved', 'settling', 'escalated', 'mediating', 'declined'].includes(plan.state)
    ) {
      await must(
        'merchant reply',
        201,
        call('POST', `${path}/messages`, { body: '您好，已收到您的反馈，我们正在核实。' }, staff),
      );
    }
    if (['offer', 'resolved', 'settling', 'mediating'].includes(plan.state)) {
      const offer = await must(
        'offer',
        201,
        call(
          'POST',
          `${path}/offers`,
          plan.state === 'offer'
            ? { type: 'exchange', note: '为您更换一副全新耳机，可到店或邮寄。' }
            : plan.state === 'resolved'
              ? { type: 'partial_refund', amountMinor: 3000, note: '非常抱歉，退还本次课时费。' }
              : plan.state === 'settling'
                ? { type: 'partial_refund', amountMinor: 2000, note: '退还二十元作为补偿。' }
                : { type: 'partial_refund', amountMinor: 2000, note: '只能退二十元。' },
          staff,
        ),
      );
      if (plan.state === 'resolved' || plan.state === 'settling') {
        await must(
          'accept',
          200,
          call('POST', `${path}/offers/${String(offer.id)}/accept`, {}, consumer),
        );
      }
      if (plan.state === 'resolved') {
        // The merchant refunds through Alipay; Alipay's notification settles the ticket.
        await sendAlipayRefund(receipt, 3000);
      }
      if (plan.state === 'mediating') {
        await must(
          'reject',
          200,
          call(
            'POST',
            `${path}/offers/${String(offer.id)}/reject`,
            { reason: '假货应当退一赔三' },
            consumer,
          ),
        );
      }
    }
    if (plan.state === 'escalated' || plan.state === 'mediating' || plan.state === 'declined') {
      // Evidence: a phone photo (its EXIF carries a GPS position the merchant never receives).
      await must('attach photo', 201, attachPhoto(`${path}/attachments`, consumer));
      const escalated = await must(
        'escalate',
        200,
        call(
          'POST',
          `${path}/escalate`,
          {
            reason: '商家拒绝合理诉求，请市场监管部门处理。',
            // The case packet's complainant, given with the escalation for the case the office
            // accepts; the other escalated ones wait for the consumer to fill it in (the demo).
            ...(plan.state === 'mediating'
              ? {
                  complainant: {
                    realName: '李小明',
                    phone: '13905710001',
                    address: '浙江省杭州市西湖区文三路100号2幢301室',
                  },
                }
              : {}),
          },
          consumer,
        ),
      );
      if (plan.state === 'mediating' && escalated.officeId) {
        const officer = await tokenFor(officerOf(String(escalated.officeId)));
        await must('view', 200, call('GET', path, undefined, officer));
        await must('accept case', 200, call('POST', `${path}/accept`, {}, officer));
      }
      if (plan.state === 'declined' && escalated.officeId) {
        const officeId = String(escalated.officeId);
        const duty = await tokenFor({
          role: 'regulator',
          sub: `duty-officer@${officeId}`,
          officeId,
        });
        await must(
          'decline',
          200,
          call(
            'POST',
            `${path}/decline`,
            { reason: 'no_clear_claim', detail: '未提供会员合同与停业通知。' },
            duty,
          ),
        );
      }
    }
    console.log(
      `ticket ${String(ticket.number)}: ${plan.state} (${MERCHANTS[plan.merchant].name})`,
    );
  }
}

async function printSignIns(auth: Record<string, string>): Promise<void> {
  const merchants = (await call('GET', '/v1/merchants?limit=100', undefined, auth)).body
    .items as Json[];
  const offices = (await call('GET', '/v1/offices?limit=100', undefined, auth)).body
    .items as Json[];
  const port = process.env.PORT ?? 3000;
  const line = (who: string, identity: Identity) =>
    `  ${who.padEnd(28)} ${JSON.stringify(identity)}`;
  console.log(`\nDemo sign-ins (one click each at http://localhost:${port}/app/):`);
  console.log(line('consumer (Alipay)', { role: 'consumer', sub: DEMO_CONSUMERS.alipay }));
  console.log(line('consumer (WeChat Pay)', { role: 'consumer', sub: DEMO_CONSUMERS.wechatpay }));
  for (const m of merchants) console.log(line(`staff: ${String(m.name)}`, staffOf(String(m.id))));
  for (const o of offices) console.log(line(`officer: ${String(o.name)}`, officerOf(String(o.id))));
  console.log(line('admin', { role: 'admin', sub: 'demo-admin' }));
  console.log('  (POST /v1/auth/dev-token with one of these bodies returns { token })');
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
