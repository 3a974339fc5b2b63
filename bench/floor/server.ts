/*
 * The floor: the same work as Hejie's intake and "initiate resolution" routes, done by the bare
 * tools — node:http and pg, nothing else. Each route verifies what the caller must prove
 * (provider signature, HMAC, HS256 JWT) and stores the same row in one INSERT round trip:
 * no framework, no validation library, no trail, no outbox, no jobs.
 *
 *   POST /v1/receipts/alipay   form-encoded Alipay notification, RSA2  → 200 "success"
 *   POST /v1/receipts          generic JSON receipt, X-Hejie-Signature → 201 row
 *   POST /v1/complaints        {receiptId, category, demand, description, contactPhone} → 201 row
 *   POST /v1/complaints/same-writes  the same, plus the trail event and outbox row (a reference)
 *
 * Env: DATABASE_URL, PORT, ALIPAY_PUBLIC_KEY, RECEIPT_HMAC_SECRET, JWT_SECRET, PII_KEY.
 */
import {
  createCipheriv,
  createHash,
  createHmac,
  createPublicKey,
  randomBytes,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import { Pool } from 'pg';

const env = process.env;
const pool = new Pool({ connectionString: env.DATABASE_URL, max: 20 });
const alipayKey = createPublicKey(env.ALIPAY_PUBLIC_KEY ?? '');
const hmacSecret = env.RECEIPT_HMAC_SECRET ?? '';
const jwtSecret = env.JWT_SECRET ?? '';
const piiKey = Buffer.from(env.PII_KEY ?? '', 'base64');

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

interface Receipt {
  provider: string;
  tradeNo: string;
  payerId: string;
  accountId: string;
  amountMinor: number;
  currency: string;
  paidAt: Date;
  subject: string;
  items?: unknown;
}

/** As Hejie's receiptFingerprint: sha256 over the JSON array of the facts. */
function fingerprint(r: Receipt): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        r.provider,
        r.tradeNo,
        r.payerId,
        r.accountId,
        r.amountMinor,
        r.currency,
        r.paidAt.toISOString(),
        r.subject,
        r.items === undefined ? null : r.items,
      ]),
    )
    .digest('hex');
}

/** Idempotent on (provider, trade_no): the key is claimed in receipt_keys first (docs/SCALE.md). */
const INSERT_RECEIPT = `
  WITH k AS (
    INSERT INTO receipt_keys (provider, trade_no, receipt_id, paid_at)
    VALUES ($1, $2, gen_random_uuid(), $7)
    ON CONFLICT (provider, trade_no) DO NOTHING
    RETURNING receipt_id)
  INSERT INTO receipts (id, provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code, amount_minor,
                        currency, paid_at, subject, items, fingerprint, raw_notification, raw_content_type)
  SELECT k.receipt_id, $1, $2, $3, $4, s.merchant_id, s.id, s.region_code, $5, $6, $7, $8, $9::jsonb, $10, $11, $12
    FROM k
    LEFT JOIN payment_accounts pa ON pa.provider = $1 AND pa.account_id = $4
    LEFT JOIN stores s ON s.id = pa.store_id
  RETURNING id, provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code, amount_minor,
            currency, paid_at, subject, items, received_at`;

async function storeReceipt(r: Receipt, raw: string, contentType: string) {
  const { rows } = await pool.query(INSERT_RECEIPT, [
    r.provider,
    r.tradeNo,
    r.payerId,
    r.accountId,
    r.amountMinor,
    r.currency,
    r.paidAt,
    r.subject,
    r.items === undefined ? null : JSON.stringify(r.items),
    fingerprint(r),
    raw,
    contentType,
  ]);
  return rows[0] ?? null;
}

/** Idempotent on (provider, refund_no): the key is claimed in refund_keys first. */
const INSERT_REFUND = `
  WITH k AS (
    INSERT INTO refund_keys (provider, refund_no, refund_id, refunded_at)
    VALUES ($1, $2, gen_random_uuid(), $6)
    ON CONFLICT (provider, refund_no) DO NOTHING
    RETURNING refund_id)
  INSERT INTO refunds (id, provider, refund_no, trade_no, receipt_id, amount_minor, currency, refunded_at,
                       fingerprint, raw, raw_content_type)
  SELECT k.refund_id, $1, $2, $3, (SELECT id FROM receipts WHERE provider = $1 AND trade_no = $3), $4, $5, $6,
         $7, $8, $9
    FROM k
  RETURNING id`;

async function storeRefund(
  r: {
    provider: string;
    refundNo: string;
    tradeNo: string;
    amountMinor: number;
    currency: string;
    refundedAt: Date;
  },
  raw: string,
  contentType: string,
): Promise<boolean> {
  const { rows } = await pool.query(INSERT_REFUND, [
    r.provider,
    r.refundNo,
    r.tradeNo,
    r.amountMinor,
    r.currency,
    r.refundedAt,
    createHash('sha256').update(raw).digest('hex'),
    raw,
    contentType,
  ]);
  return rows.length > 0;
}

/** POST /v1/refunds: HMAC, then the refunds row. */
async function refund(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req);
  const m = /^sha256=([0-9a-f]{64})$/i.exec(String(req.headers['x-hejie-signature'] ?? ''));
  const expected = createHmac('sha256', hmacSecret).update(raw).digest();
  if (!m || !timingSafeEqual(Buffer.from(m[1], 'hex'), expected))
    throw new HttpError(401, 'bad signature');
  const b = JSON.parse(raw) as Record<string, unknown>;
  if (typeof b.refundNo !== 'string' || typeof b.amountMinor !== 'number')
    throw new HttpError(400, 'invalid refund');
  const created = await storeRefund(
    {
      provider: String(b.provider),
      refundNo: b.refundNo,
      tradeNo: String(b.tradeNo),
      amountMinor: b.amountMinor,
      currency: String(b.currency),
      refundedAt: new Date(String(b.refundedAt)),
    },
    raw,
    String(req.headers['content-type']),
  );
  send(res, created ? 201 : 200, { ok: true });
}

async function alipay(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req);
  const params = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(raw)) params.set(k, v);
  const sign = params.get('sign')?.replace(/ /g, '+');
  if (!sign || params.get('sign_type') !== 'RSA2') throw new HttpError(400, 'unsigned');
  const content = [...params.keys()]
    .filter((k) => k !== 'sign' && k !== 'sign_type' && params.get(k) !== '')
    .sort()
    .map((k) => `${k}=${params.get(k)}`)
    .join('&');
  if (!verify('sha256', Buffer.from(content), alipayKey, Buffer.from(sign, 'base64')))
    throw new HttpError(400, 'bad signature');
  if (params.get('refund_fee')) {
    // A refund notification: the refunds row (refund_fee taken as the amount, no running total).
    await storeRefund(
      {
        provider: 'alipay',
        refundNo: params.get('out_biz_no') ?? '',
        tradeNo: params.get('trade_no') ?? '',
        amountMinor: Math.round(Number(params.get('refund_fee')) * 100),
        currency: 'CNY',
        refundedAt: new Date(`${(params.get('gmt_refund') ?? '').replace(' ', 'T')}+08:00`),
      },
      raw,
      String(req.headers['content-type']),
    );
    return send(res, 200, 'success');
  }
  const local = params.get('gmt_payment') ?? '';
  await storeReceipt(
    {
      provider: 'alipay',
      tradeNo: params.get('trade_no') ?? '',
      payerId: `alipay:${params.get('buyer_id') ?? ''}`,
      accountId: params.get('seller_id') ?? '',
      amountMinor: Math.round(Number(params.get('total_amount')) * 100),
      currency: 'CNY',
      paidAt: new Date(`${local.replace(' ', 'T')}+08:00`),
      subject: params.get('subject') || params.get('out_trade_no') || '',
    },
    raw,
    String(req.headers['content-type']),
  );
  send(res, 200, 'success');
}

async function generic(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req);
  const m = /^sha256=([0-9a-f]{64})$/i.exec(String(req.headers['x-hejie-signature'] ?? ''));
  const expected = createHmac('sha256', hmacSecret).update(raw).digest();
  if (!m || !timingSafeEqual(Buffer.from(m[1], 'hex'), expected))
    throw new HttpError(401, 'bad signature');
  const b = JSON.parse(raw) as Record<string, unknown>;
  if (typeof b.tradeNo !== 'string' || typeof b.amountMinor !== 'number')
    throw new HttpError(400, 'invalid receipt');
  const row = await storeReceipt(
    {
      provider: String(b.provider),
      tradeNo: b.tradeNo,
      payerId: `${String(b.provider)}:${String(b.payerId)}`,
      accountId: String(b.accountId),
      amountMinor: b.amountMinor,
      currency: String(b.currency),
      paidAt: new Date(String(b.paidAt)),
      subject: String(b.subject),
      items: b.items,
    },
    raw,
    String(req.headers['content-type']),
  );
  send(res, row ? 201 : 200, row ?? { duplicate: true });
}

/** HS256 JWT with exp: the claims, or 401. */
function bearer(req: IncomingMessage): { sub: string; role: string } {
  const m = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''));
  const parts = m ? m[1].split('.') : [];
  if (parts.length !== 3) throw new HttpError(401, 'no token');
  const sig = createHmac('sha256', jwtSecret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== sig.length || !timingSafeEqual(given, sig))
    throw new HttpError(401, 'bad token');
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as {
    sub: string;
    role: string;
    exp: number;
  };
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now())
    throw new HttpError(401, 'expired');
  return claims;
}

const INSERT_COMPLAINT = `
  INSERT INTO complaints (id, number, status, receipt_id, consumer_id, merchant_id, store_id, region_code,
      order_snapshot, category, demand_type, demand_amount_minor, description, contact_phone_enc,
      contact_phone_masked, idempotency_key, merchant_respond_by, resolve_by, event_count, head_hash,
      created_at, updated_at)
  SELECT gen_random_uuid(), 'FL-' || nextval('complaint_number_seq'), 'awaiting_merchant', r.id, r.payer_id,
         r.merchant_id, r.store_id, r.region_code,
         jsonb_build_object('tradeNo', r.trade_no, 'provider', r.provider, 'amountMinor', r.amount_minor,
                            'currency', r.currency, 'paidAt', r.paid_at, 'subject', r.subject,
                            'storeName', s.name, 'storeAddress', s.address, 'merchantName', m.name),
         $3, $4, $5, $6, $7, $8, $9, now() + interval '96 hours', now() + interval '7 days', 1, $10, now(), now()
    FROM receipts r JOIN stores s ON s.id = r.store_id JOIN merchants m ON m.id = r.merchant_id
   WHERE r.id = $1 AND r.payer_id = $2
  RETURNING id, number, status, receipt_id, consumer_id, merchant_id, store_id, region_code, order_snapshot,
            category, demand_type, demand_amount_minor, description, contact_phone_masked,
            merchant_respond_by, resolve_by, created_at`;

/**
 * Not the floor: the reference "same writes as Hejie in one round trip" — the complaints row,
 * its 'created' trail event and its outbox row in one statement (data-modifying CTEs).
 */
const INSERT_COMPLAINT_SAME_WRITES = `
  WITH c AS (${INSERT_COMPLAINT.replace(/RETURNING[\s\S]*$/, 'RETURNING *')}),
  e AS (
    INSERT INTO complaint_events (complaint_id, seq, type, actor_role, actor_id, at, data, prev_hash, hash)
    SELECT id, 1, 'created', 'consumer', consumer_id, created_at,
           jsonb_build_object('complaintId', id, 'receiptId', receipt_id, 'merchantId', merchant_id,
                              'category', category, 'demand', jsonb_build_object('type', demand_type,
                              'amountMinor', demand_amount_minor), 'description', description,
                              'merchantRespondBy', merchant_respond_by, 'resolveBy', resolve_by),
           repeat('0', 64), head_hash
      FROM c
    RETURNING complaint_id
  ), o AS (
    INSERT INTO outbox (topic, complaint_id, event_seq, event_type, payload, created_at)
    SELECT 'stats', id, 1, 'created', jsonb_build_object('status', status), created_at FROM c
  )
  SELECT id, number, status, receipt_id, consumer_id, merchant_id, store_id, region_code, order_snapshot,
         category, demand_type, demand_amount_minor, description, contact_phone_masked,
         merchant_respond_by, resolve_by, created_at
    FROM c`;

async function complaint(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const actor = bearer(req);
  if (actor.role !== 'consumer') throw new HttpError(403, 'consumers only');
  const raw = await readBody(req);
  const b = JSON.parse(raw) as {
    receiptId: string;
    category: string;
    demand: { type: string; amountMinor?: number };
    description: string;
    contactPhone?: string;
  };
  if (typeof b.receiptId !== 'string' || typeof b.description !== 'string')
    throw new HttpError(400, 'invalid');
  let enc: string | null = null;
  if (b.contactPhone) {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', piiKey, iv);
    const ct = Buffer.concat([c.update(b.contactPhone, 'utf8'), c.final()]);
    enc = Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
  }
  try {
    const sql = req.url?.endsWith('/same-writes') ? INSERT_COMPLAINT_SAME_WRITES : INSERT_COMPLAINT;
    const { rows } = await pool.query(sql, [
      b.receiptId,
      actor.sub,
      b.category,
      b.demand?.type,
      b.demand?.amountMinor ?? null,
      b.description,
      enc,
      b.contactPhone ? `${b.contactPhone.slice(0, 3)}****${b.contactPhone.slice(-4)}` : null,
      req.headers['idempotency-key'] ?? null,
      createHash('sha256').update(raw).digest('hex'),
    ]);
    if (!rows.length) throw new HttpError(404, 'receipt not found');
    send(res, 201, rows[0]);
  } catch (e) {
    if ((e as { code?: string }).code === '23505') throw new HttpError(409, 'complaint exists');
    throw e;
  }
}

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
  'POST /v1/receipts/alipay': alipay,
  'POST /v1/receipts': generic,
  'POST /v1/refunds': refund,
  'POST /v1/complaints': complaint,
  'POST /v1/complaints/same-writes': complaint,
};

createServer((req, res) => {
  const route = routes[`${req.method} ${req.url?.split('?')[0]}`];
  if (!route) return send(res, 404, { error: 'not found' });
  route(req, res).catch((e: unknown) => {
    if (e instanceof HttpError) send(res, e.status, { error: e.message });
    else {
      console.error(e);
      send(res, 500, { error: String(e) });
    }
  });
}).listen(Number(env.PORT ?? 0), '127.0.0.1', () => console.log('floor listening'));

process.on('SIGTERM', () => {
  void pool.end().finally(() => process.exit(0));
});
