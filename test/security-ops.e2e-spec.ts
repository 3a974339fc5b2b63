/*
 * Issue 11, "Tokens, logs and operations": token rules, /metrics and /health/ready, the
 * general write limit, regulators' views coalesced, stream tickets, the Bull Board session,
 * security headers. Each test fails on the code before this change.
 *
 * Region codes are Nyingchi's (5426xx), which no other suite uses.
 */
import { createHash } from 'node:crypto';
import { get as httpGet } from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { JwtService } from '@nestjs/jwt';
import type Redis from 'ioredis';
import {
  bearer,
  JWT_SECRET,
  METRICS_TOKEN,
  metricsAuth,
  startTestApp,
  TestApp,
} from './helpers/test-app';
import { REDIS } from '../apps/api/src/ops/redis.provider';
import { createOffice, createShop, ticketIn } from './factories/complaint.factory';
import { FakeClock } from './helpers/fake-clock';

const jwt = new JwtService({ secret: JWT_SECRET });
const nowS = () => Math.floor(Date.now() / 1000);
const ADMIN = { sub: 'ops-admin', role: 'admin' };
const HOUR = 3_600_000;

describe('tokens (JWT_MAX_AGE, iat, JWT_ISSUER, JWT_AUDIENCE)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('a token issued more than JWT_MAX_AGE (24h) ago → 401, even with a later exp', async () => {
    const old = jwt.sign({ ...ADMIN, iat: nowS() - 25 * 3600, exp: nowS() + 3600 });
    const res = await t.http.get('/v1/merchants').set(bearer(old)).expect(401);
    expect(res.body).toMatchObject({ code: 'UNAUTHENTICATED', detail: /maxAge/ });
    const fresh = jwt.sign({ ...ADMIN, iat: nowS() - 23 * 3600, exp: nowS() + 3600 });
    await t.http.get('/v1/merchants').set(bearer(fresh)).expect(200);
  });

  it('a token without iat → 401', async () => {
    const noIat = jwt.sign({ ...ADMIN, exp: nowS() + 3600 }, { noTimestamp: true });
    const res = await t.http.get('/v1/merchants').set(bearer(noIat)).expect(401);
    expect(res.body.detail).toMatch(/iat/);
  });

  it('a token issued in the future (beyond a minute of skew) → 401', async () => {
    const future = jwt.sign({ ...ADMIN, iat: nowS() + 3600, exp: nowS() + 7200 });
    await t.http.get('/v1/merchants').set(bearer(future)).expect(401);
  });
});

describe('tokens with JWT_ISSUER and JWT_AUDIENCE set', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      JWT_ISSUER: 'https://id.hejie.test',
      JWT_AUDIENCE: 'hejie-api',
      AUTH_DEV_LOGIN: 'true',
    });
  });
  afterAll(() =>
    t.close().finally(() => {
      delete process.env.JWT_ISSUER;
      delete process.env.JWT_AUDIENCE;
    }),
  );

  it('requires both claims', async () => {
    const sign = (extra: object) => jwt.sign({ ...ADMIN, ...extra }, { expiresIn: '1h' });
    await t.http
      .get('/v1/merchants')
      .set(bearer(sign({})))
      .expect(401);
    await t.http
      .get('/v1/merchants')
      .set(bearer(sign({ iss: 'https://id.hejie.test' })))
      .expect(401);
    await t.http
      .get('/v1/merchants')
      .set(bearer(sign({ iss: 'https://evil.test', aud: 'hejie-api' })))
      .expect(401);
    await t.http
      .get('/v1/merchants')
      .set(bearer(sign({ iss: 'https://id.hejie.test', aud: 'hejie-api' })))
      .expect(200);
  });

  it('dev tokens carry them', async () => {
    const res = await t.http
      .post('/v1/auth/dev-token')
      .send({ role: 'admin', sub: 'ops' })
      .expect(200);
    expect(jwt.decode(res.body.token)).toMatchObject({
      iss: 'https://id.hejie.test',
      aud: 'hejie-api',
    });
    await t.http.get('/v1/merchants').set(bearer(res.body.token)).expect(200);
  });
});

describe('dev login: expiresIn', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ AUTH_DEV_LOGIN: 'true' });
  });
  afterAll(() => t.close());

  it.each(['25h', '2d', 'soon', '1.5h', '-1h', '0s', '500ms'])(
    'expiresIn %s → 400 VALIDATION_FAILED (never 500)',
    async (expiresIn) => {
      const res = await t.http
        .post('/v1/auth/dev-token')
        .send({ role: 'admin', sub: 'ops', expiresIn })
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    },
  );

  it('expiresIn up to 24h is honoured, with iat', async () => {
    for (const expiresIn of ['90s', '24h', '1d']) {
      const res = await t.http
        .post('/v1/auth/dev-token')
        .send({ role: 'admin', sub: 'ops', expiresIn })
        .expect(200);
      const c = jwt.decode(res.body.token) as { iat: number; exp: number };
      expect(c.exp - c.iat).toBe(expiresIn === '90s' ? 90 : 86400);
    }
  });
});

describe('/metrics and /health/ready', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('/metrics needs Authorization: Bearer <METRICS_TOKEN>', async () => {
    t = await startTestApp();
    const none = await t.http.get('/metrics').expect(401);
    expect(none.body.code).toBe('UNAUTHENTICATED');
    await t.http.get('/metrics').set(bearer('wrong-token-0123456789')).expect(401);
    // An admin JWT is not the metrics token either.
    await t.http
      .get('/metrics')
      .set(bearer(t.token({ role: 'admin' })))
      .expect(401);
    await t.http.get('/metrics').set(bearer(METRICS_TOKEN)).expect(200);
  });

  it('/metrics answers 404 when METRICS_TOKEN is unset', async () => {
    t = await startTestApp({ METRICS_TOKEN: undefined });
    const res = await t.http.get('/metrics').set(metricsAuth()).expect(404);
    expect(res.body.code).toBe('NOT_FOUND');
  });

  it('/health/ready says which dependency is down, without error text', async () => {
    t = await startTestApp();
    const redis = t.app.get<{ ping: () => Promise<string> }>(REDIS);
    const ping = jest
      .spyOn(redis, 'ping')
      .mockRejectedValue(new Error('connect ECONNREFUSED 10.1.2.3:6379 (redis 7.0.15)'));
    try {
      const res = await t.http.get('/health/ready').expect(503);
      expect(res.body).toEqual({ status: 'down', checks: { postgres: 'ok', redis: 'down' } });
      expect(res.text).not.toMatch(/ECONNREFUSED|10\.1\.2\.3/);
    } finally {
      ping.mockRestore();
    }
  });
});

describe('every authenticated write is rate limited per caller (WRITE_RATE_LIMIT)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ WRITE_RATE_LIMIT: '3', WRITE_RATE_LIMIT_WINDOW: '1m' });
  });
  afterAll(() => t.close());

  it('the 4th write of one caller → 429 RATE_LIMITED with Retry-After; reads and others pass', async () => {
    const admin = bearer(t.token({ role: 'admin', sub: `limited-${Date.now()}` }));
    // Writes that fail validation still count: the limit is on requests, before the handler.
    for (let i = 0; i < 3; i++) {
      await t.http.post('/v1/offices').set(admin).send({}).expect(400);
    }
    const fourth = await t.http.post('/v1/offices').set(admin).send({});
    expect(fourth.status).toBe(429);
    expect(fourth.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(fourth.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another route, same caller: one limit for all writes.
    const merchant = await t.http.post('/v1/merchants').set(admin).send({});
    expect(merchant.status).toBe(429);
    // Reads are not counted; another caller is unaffected.
    await t.http.get('/v1/offices').set(admin).expect(200);
    const other = bearer(t.token({ role: 'admin', sub: `other-${Date.now()}` }));
    await t.http.post('/v1/offices').set(other).send({}).expect(400);
  });
});

describe("a regulator's repeated views are coalesced (REGULATOR_VIEW_WINDOW)", () => {
  let t: TestApp;
  const clock = new FakeClock();
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000', REGULATOR_VIEW_WINDOW: '1h' }, { clock });
  });
  afterAll(() => t.close());

  const views = async (id: string, who: { Authorization: string }) => {
    const res = await t.http.get(`/v1/complaints/${id}/events`).set(who).expect(200);
    return (res.body.items as { type: string; at: string; actor: { id: string } }[]).filter(
      (e) => e.type === 'regulator_viewed',
    );
  };

  it('one event per officer per ticket per hour, also for parallel reads', async () => {
    clock.set(Date.now());
    const office = await createOffice(t, ['542621']);
    const shop = await createShop(t, '542621');
    const ticket = await ticketIn(t, shop, 'escalated');
    const officer = bearer(t.token({ role: 'regulator', sub: 'officer-a', officeId: office.id }));
    const colleague = bearer(t.token({ role: 'regulator', sub: 'officer-b', officeId: office.id }));

    const reads = await Promise.all(
      Array.from({ length: 5 }, () => t.http.get(`/v1/complaints/${ticket.id}`).set(officer)),
    );
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await t.http.get(`/v1/complaints/${ticket.id}`).set(officer).expect(200);
    expect(await views(ticket.id, ticket.consumer)).toHaveLength(1);

    // Another officer's view is its own.
    await t.http.get(`/v1/complaints/${ticket.id}`).set(colleague).expect(200);
    expect((await views(ticket.id, ticket.consumer)).map((e) => e.actor.id)).toEqual([
      'officer-a',
      'officer-b',
    ]);

    // A second before the hour is up the read is still coalesced; at the hour it is recorded
    // again, once.
    const [first] = await views(ticket.id, ticket.consumer);
    const firstAt = Date.parse(first.at);
    clock.set(firstAt + HOUR - 1000);
    await t.http.get(`/v1/complaints/${ticket.id}`).set(officer).expect(200);
    expect(await views(ticket.id, ticket.consumer)).toHaveLength(2);
    clock.set(firstAt + HOUR);
    await t.http.get(`/v1/complaints/${ticket.id}`).set(officer).expect(200);
    await t.http.get(`/v1/complaints/${ticket.id}`).set(officer).expect(200);
    expect((await views(ticket.id, ticket.consumer)).map((e) => e.actor.id)).toEqual([
      'officer-a',
      'officer-b',
      'officer-a',
    ]);
  });
});

/** A raw event-stream client: its status, and a promise for the first `ready` event. */
function openSse(url: string) {
  let req!: ClientRequest;
  let text = '';
  const opened = new Promise<IncomingMessage>((resolve, reject) => {
    req = httpGet(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      resolve(res);
    });
    req.on('error', reject);
  });
  const ready = async () => {
    for (let i = 0; i < 100 && !text.includes('event: ready'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return text.includes('event: ready');
  };
  return { opened, ready, close: () => req.destroy() };
}

describe('GET /v1/stream takes a single-use ticket, not the JWT', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await startTestApp({ STREAM_MAX_PER_CALLER: '2', STREAM_MAX_TOTAL: '3' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() =>
    t.close().finally(() => {
      delete process.env.STREAM_MAX_PER_CALLER;
      delete process.env.STREAM_MAX_TOTAL;
    }),
  );

  const ticketFor = async (who: { Authorization: string }) => {
    const res = await t.http.post('/v1/stream/ticket').set(who).expect(201);
    expect(Object.keys(res.body).sort()).toEqual(['expiresAt', 'ticket']);
    return res.body as { ticket: string; expiresAt: string };
  };

  it('POST /v1/stream/ticket needs a bearer token', async () => {
    const res = await t.http.post('/v1/stream/ticket').expect(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
  });

  it('a ticket opens one stream, once; a JWT in the URL opens none', async () => {
    const admin = bearer(t.token({ role: 'admin', sub: 'stream-admin' }));
    const { ticket, expiresAt } = await ticketFor(admin);
    expect(ticket).toMatch(/^[\w-]{43}$/);
    const ttl = Date.parse(expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // Stored under its digest with the TTL, not under the ticket itself.
    const redis = t.app.get<Redis>(REDIS);
    const keys = await redis.keys(`${process.env.QUEUE_PREFIX}:stream-ticket:*`);
    expect(keys.some((k) => k.includes(ticket))).toBe(false);
    expect(await redis.pttl(keys[0])).toBeGreaterThan(0);

    const s = openSse(`${base}/v1/stream?ticket=${ticket}`);
    try {
      const res = await s.opened;
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream');
      expect(await s.ready()).toBe(true);
      // Used: a second connection with it is refused.
      const replay = await t.http.get(`/v1/stream?ticket=${ticket}`);
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('UNAUTHENTICATED');
    } finally {
      s.close();
    }
    const jwtInUrl = await t.http.get(`/v1/stream?token=${admin.Authorization.slice(7)}`);
    expect(jwtInUrl.status).toBe(401);
    await t.http.get('/v1/stream?ticket=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').expect(401);
  });

  it('caps open streams per caller (2) and in total (3): one more → 429', async () => {
    const a = bearer(t.token({ role: 'admin', sub: 'cap-a' }));
    const b = bearer(t.token({ role: 'admin', sub: 'cap-b' }));
    const open: ReturnType<typeof openSse>[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = openSse(`${base}/v1/stream?ticket=${(await ticketFor(a)).ticket}`);
        open.push(s);
        expect((await s.opened).statusCode).toBe(200);
      }
      const third = await t.http.get(`/v1/stream?ticket=${(await ticketFor(a)).ticket}`);
      expect(third.status).toBe(429);
      expect(third.body.code).toBe('RATE_LIMITED');
      const s = openSse(`${base}/v1/stream?ticket=${(await ticketFor(b)).ticket}`);
      open.push(s);
      expect((await s.opened).statusCode).toBe(200);
      const fourth = await t.http.get(`/v1/stream?ticket=${(await ticketFor(b)).ticket}`);
      expect(fourth.status).toBe(429);
      // Closing a stream gives its slot back.
      open.shift()!.close();
      let again = 0;
      for (let i = 0; i < 50 && again !== 200; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const s2 = openSse(`${base}/v1/stream?ticket=${(await ticketFor(a)).ticket}`);
        again = (await s2.opened).statusCode ?? 0;
        if (again === 200) open.push(s2);
        else s2.close();
      }
      expect(again).toBe(200);
    } finally {
      open.forEach((s) => s.close());
    }
  });
});

describe('Bull Board: a server-side session instead of the admin JWT in URLs and cookies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_SESSION_TTL: '1h' });
  });
  afterAll(() => t.close().finally(() => delete process.env.ADMIN_SESSION_TTL));

  it('the session and stream-ticket routes are in the OpenAPI document', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    expect(doc.paths['/admin/queues/session'].post.summary).toMatch(/Bull Board session/);
    expect(doc.paths['/v1/stream/ticket'].post.summary).toMatch(/stream ticket/);
    expect(doc.paths['/v1/stream'].get.parameters.map((p: { name: string }) => p.name)).toEqual([
      'ticket',
    ]);
  });

  it('?token=<admin JWT> opens nothing and sets no cookie', async () => {
    const admin = t.token({ role: 'admin' });
    const res = await t.http.get(`/admin/queues?token=${admin}`).expect(401);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body.detail).toMatch(/POST \/admin\/queues\/session/);
  });

  it('POST /admin/queues/session: a random id in an HttpOnly, SameSite=Strict, path-scoped cookie', async () => {
    const admin = t.token({ role: 'admin' });
    await t.http.post('/admin/queues/session').expect(401);
    await t.http.post('/admin/queues/session').set(bearer('not-a-jwt')).expect(401);
    const res = await t.http.post('/admin/queues/session').set(bearer(admin)).expect(204);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^hejie_admin_session=[\w-]{43}; Max-Age=3\d{3}; Path=\/admin\/queues; HttpOnly; SameSite=Strict$/,
    );
    expect(setCookie).not.toContain(admin);
    expect(setCookie).not.toContain('Secure'); // plain http, no trusted proxy
    const id = /=([\w-]{43});/.exec(setCookie)![1];
    // Redis keeps it under a digest, with the TTL.
    const redis = t.app.get<Redis>(REDIS);
    const keys = await redis.keys(`${process.env.QUEUE_PREFIX}:admin-session:*`);
    expect(keys.some((k) => k.includes(id))).toBe(false);
    // This session's key (other suites in this Jest worker share the queue prefix).
    const key = `${process.env.QUEUE_PREFIX}:admin-session:${createHash('sha256').update(id).digest('hex')}`;
    expect(keys).toContain(key);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3600_000);

    const cookie = `hejie_admin_session=${id}`;
    await t.http.get('/admin/queues/api/queues').set('cookie', cookie).expect(200);
    await t.http
      .get('/admin/queues/api/queues')
      .set('cookie', 'hejie_admin_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
      .expect(401);
    // The old cookie holding the JWT itself is not honoured either.
    await t.http.get('/admin/queues').set('cookie', `hejie_admin_token=${admin}`).expect(401);

    // Signing out ends the session.
    const out = await t.http.delete('/admin/queues/session').set('cookie', cookie).expect(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^hejie_admin_session=; Max-Age=0;/);
    await t.http.get('/admin/queues/api/queues').set('cookie', cookie).expect(401);
  });

  it('the session ends no later than the token it came from', async () => {
    const admin = t.token({ role: 'admin' }, '2m');
    const res = await t.http.post('/admin/queues/session').set(bearer(admin)).expect(204);
    const maxAge = Number(/Max-Age=(\d+)/.exec(String(res.headers['set-cookie']))![1]);
    expect(maxAge).toBeLessThanOrEqual(120);
    expect(maxAge).toBeGreaterThan(100);
    // Nor later than JWT_MAX_AGE after its iat, whatever its exp says.
    const old = jwt.sign({ ...ADMIN, iat: nowS() - (24 * 3600 - 300), exp: nowS() + 10 * 3600 });
    const res2 = await t.http.post('/admin/queues/session').set(bearer(old)).expect(204);
    const maxAge2 = Number(/Max-Age=(\d+)/.exec(String(res2.headers['set-cookie']))![1]);
    expect(maxAge2).toBeLessThanOrEqual(300);
    expect(maxAge2).toBeGreaterThan(250);
  });
});

describe('security headers, HSTS and TRUST_PROXY', () => {
  let t: TestApp;
  let web: string;
  beforeAll(async () => {
    // A stand-in dashboards build, with a source map an old build might have left.
    web = mkdtempSync(join(tmpdir(), 'hejie-web-'));
    mkdirSync(join(web, 'assets'));
    writeFileSync(join(web, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(web, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(web, 'assets', 'app.js.map'), '{"version":3}');
    t = await startTestApp({ WEB_DIST_DIR: web });
  });
  afterAll(async () => {
    await t.close();
    delete process.env.WEB_DIST_DIR;
    rmSync(web, { recursive: true, force: true });
  });

  const expectHeaders = (res: { headers: Record<string, string> }, path: string) => {
    const h = res.headers;
    expect([path, h['content-security-policy']]).toEqual([
      path,
      expect.stringContaining("frame-ancestors 'none'"),
    ]);
    expect(h['content-security-policy']).toContain("script-src 'self'");
    expect(h['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect([path, h['x-frame-options']]).toEqual([path, 'DENY']);
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['referrer-policy']).toBe('no-referrer');
    expect([path, h['strict-transport-security']]).toEqual([path, undefined]);
  };

  it('on every response: API, errors, /docs, /admin/queues, /app/', async () => {
    const admin = bearer(t.token({ role: 'admin' }));
    for (const [path, status, who] of [
      ['/health', 200, null],
      ['/v1/merchants', 401, null],
      ['/v1/merchants', 200, admin],
      ['/v1/no-such-route', 404, null],
      ['/docs', 200, null],
      ['/docs-json', 200, null],
      ['/admin/queues', 401, null],
      ['/admin/queues', 200, admin],
      ['/app/', 200, null],
      ['/app/assets/app.js', 200, null],
    ] as const) {
      let req = t.http.get(path);
      if (who) req = req.set(who);
      const res = await req;
      expect([path, res.status]).toEqual([path, status]);
      expectHeaders(res, path);
    }
  });

  it('no source maps under /app/', async () => {
    const res = await t.http.get('/app/assets/app.js.map').expect(404);
    expectHeaders(res, '/app/assets/app.js.map');
  });

  it('X-Forwarded-Proto from an untrusted client changes nothing (TRUST_PROXY unset)', async () => {
    const res = await t.http.get('/health').set('x-forwarded-proto', 'https').expect(200);
    expect(res.headers['strict-transport-security']).toBeUndefined();
    const session = await t.http
      .post('/admin/queues/session')
      .set('x-forwarded-proto', 'https')
      .set(bearer(t.token({ role: 'admin' })))
      .expect(204);
    expect(String(session.headers['set-cookie'])).not.toContain('Secure');
  });
});

describe('behind a trusted https proxy (TRUST_PROXY=127.0.0.1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ TRUST_PROXY: '127.0.0.1' });
  });
  afterAll(() => t.close().finally(() => delete process.env.TRUST_PROXY));

  it('HSTS and a Secure session cookie when the proxy says https; neither over http', async () => {
    const https = await t.http.get('/health').set('x-forwarded-proto', 'https').expect(200);
    expect(https.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const http = await t.http.get('/health').expect(200);
    expect(http.headers['strict-transport-security']).toBeUndefined();
    const session = await t.http
      .post('/admin/queues/session')
      .set('x-forwarded-proto', 'https')
      .set(bearer(t.token({ role: 'admin' })))
      .expect(204);
    expect(String(session.headers['set-cookie'])).toMatch(/; Secure$/);
  });
});
