import { bearer, JWT_SECRET, metricsAuth, startTestApp, TestApp } from './helpers/test-app';

describe('operations endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('GET /health is live without a token', async () => {
    await t.http.get('/health').expect(200, { status: 'ok' });
  });

  it('GET /health/ready pings PostgreSQL and Redis', async () => {
    const res = await t.http.get('/health/ready').expect(200);
    expect(res.body.checks).toEqual({ postgres: 'ok', redis: 'ok' });
  });

  it('GET /metrics exposes HTTP request histograms in Prometheus format', async () => {
    await t.http.get('/health').expect(200);
    const res = await t.http.get('/metrics').set(metricsAuth()).expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toMatch(/hejie_http_request_duration_seconds_bucket\{.*route="\/health".*\}/);
  });

  it('domain gauges still answer after a later application in the same process closes', async () => {
    // The gauges are registered once per process; they read from the application started last
    // that is still running, so closing a second one must not leave the first one's empty.
    const sample = async (app: TestApp) => {
      const res = await app.http.get('/metrics').set(metricsAuth()).expect(200);
      return /^hejie_calendar_estimated_deadlines\{field="acceptBy"\} \d+$/m.test(res.text);
    };
    expect(await sample(t)).toBe(true);
    const other = await startTestApp();
    try {
      expect(await sample(other)).toBe(true);
    } finally {
      await other.close();
    }
    expect(await sample(t)).toBe(true);
  });

  it('GET /docs-json is OpenAPI generated from the code, with problem responses', async () => {
    const res = await t.http.get('/docs-json').expect(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(res.body.paths['/v1/receipts/alipay']).toBeDefined();
    expect(res.body.paths['/v1/merchants'].post.responses['422']).toBeDefined();
    expect(res.body.components.schemas.ProblemDto).toBeDefined();
    await t.http.get('/docs').expect(200);
  });

  it('echoes a request id on every response', async () => {
    const res = await t.http.get('/health').set('x-request-id', 'abc-123').expect(200);
    expect(res.headers['x-request-id']).toBe('abc-123');
    const res2 = await t.http.get('/health');
    expect(res2.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('unknown routes are 404 problems', async () => {
    const res = await t.http.get('/v1/nothing-here').expect(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  describe('authentication', () => {
    it('no token → 401 UNAUTHENTICATED', async () => {
      const res = await t.http.get('/v1/merchants').expect(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    });

    it('expired token → 401', async () => {
      const token = t.token({ role: 'admin' }, '-10s');
      await t.http.get('/v1/merchants').set(bearer(token)).expect(401);
    });

    it('token without exp → 401', async () => {
      const { JwtService } = await import('@nestjs/jwt');
      const token = new JwtService({ secret: JWT_SECRET }).sign({
        sub: 'x',
        role: 'admin',
      });
      const res = await t.http.get('/v1/merchants').set(bearer(token)).expect(401);
      expect(res.body.detail).toMatch(/exp/);
    });

    it('token signed with another secret → 401', async () => {
      const { JwtService } = await import('@nestjs/jwt');
      const token = new JwtService({ secret: 'another-secret-0123456789' }).sign(
        { sub: 'x', role: 'admin' },
        { expiresIn: '1h' },
      );
      await t.http.get('/v1/merchants').set(bearer(token)).expect(401);
    });

    it('wrong role → 403 FORBIDDEN', async () => {
      const res = await t.http
        .get('/v1/merchants')
        .set(bearer(t.token({ role: 'consumer', sub: 'alipay:1' })))
        .expect(403);
      expect(res.body.code).toBe('FORBIDDEN');
    });

    it('merchant token without merchantId → 401', async () => {
      await t.http
        .get('/v1/merchants')
        .set(bearer(t.token({ role: 'merchant' })))
        .expect(401);
    });

    it('dev-token route is off unless AUTH_DEV_LOGIN=true', async () => {
      await t.http.post('/v1/auth/dev-token').send({ role: 'admin', sub: 'ops' }).expect(404);
    });
  });
});

describe('dev login', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ AUTH_DEV_LOGIN: 'true' });
  });
  afterAll(() => t.close());

  it('mints a token that the API accepts', async () => {
    const res = await t.http
      .post('/v1/auth/dev-token')
      .send({ role: 'admin', sub: 'ops' })
      .expect(200);
    await t.http.get('/v1/merchants').set(bearer(res.body.token)).expect(200);
  });

  it('refuses a regulator without officeId', async () => {
    const res = await t.http
      .post('/v1/auth/dev-token')
      .send({ role: 'regulator', sub: 'o' })
      .expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });
});

describe('queue dashboard (Bull Board)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('is closed without a session and to non-admins', async () => {
    const anon = await t.http.get('/admin/queues').expect(401);
    expect(anon.body.code).toBe('UNAUTHENTICATED');
    const merchant = t.token({
      role: 'merchant',
      merchantId: '00000000-0000-4000-8000-000000000000',
    });
    await t.http.post('/admin/queues/session').set(bearer(merchant)).expect(403);
    await t.http.get('/admin/queues').set(bearer(merchant)).expect(403);
  });

  it('opens for an admin session, lists the deadline queue', async () => {
    const admin = t.token({ role: 'admin' });
    const session = await t.http.post('/admin/queues/session').set(bearer(admin)).expect(204);
    const cookie = String(session.headers['set-cookie']?.[0]).split(';')[0];
    await t.http.get('/admin/queues').set('cookie', cookie).expect(200);
    const api = await t.http.get('/admin/queues/api/queues').set('cookie', cookie).expect(200);
    expect(api.body.queues.map((q: { name: string }) => q.name)).toContain('deadlines');
    // Scripts may still send the bearer header.
    await t.http.get('/admin/queues/api/queues').set(bearer(admin)).expect(200);
  });
});
