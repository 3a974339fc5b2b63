/*
 * Who may do what to a ticket: every complaint route × every kind of caller, as a table.
 *
 *   401 UNAUTHENTICATED     no token
 *   403 FORBIDDEN           a role the route does not take (checked before the ticket is read)
 *   404 NOT_FOUND           a caller of the right role who may not see this ticket (no leak)
 *   409 INVALID_TRANSITION  right role and party, wrong state (second table)
 *
 * A cell that changes state gets a fresh ticket, so no cell depends on another. A refused cell
 * must leave the ticket exactly as it was (status and trail length).
 *
 * Region codes are Qinghai's (630102…), which no other suite uses: routing is global in the
 * run's shared database.
 */
import { randomBytes } from 'node:crypto';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createOffice, createShop, Shop, Ticket, ticketIn } from './factories/complaint.factory';
import type { TicketState } from './factories/complaint.factory';

type H = { Authorization: string };

const PARTIES = [
  'owner consumer',
  'other consumer',
  'own merchant',
  'other merchant',
  'office in jurisdiction',
  'office outside',
  'admin',
  'no token',
] as const;
type Party = (typeof PARTIES)[number];

/** Ticket states a cell can start from ('escalated_after_offer': an offer lapsed on escalation). */
type Setup = TicketState | 'escalated_after_offer';

interface Route {
  name: string;
  /** Does a success change the ticket (then each cell gets its own ticket)? */
  mutates: boolean;
  send: (t: TestApp, tk: Ticket, who: H | null, ctx: Ctx) => Promise<{ status: number; body: any }>;
}

interface Ctx {
  targetOffice: string;
}

const call = (
  t: TestApp,
  method: 'get' | 'post',
  path: string,
  who: H | null,
  body?: object,
): Promise<{ status: number; body: any }> => {
  let r = t.http[method](path);
  if (who) r = r.set(who);
  return method === 'post' ? r.send(body ?? {}) : r;
};

const ROUTES: Record<string, Route> = {
  getOne: {
    name: 'GET /complaints/:id',
    mutates: false,
    send: (t, tk, who) => call(t, 'get', `/v1/complaints/${tk.id}`, who),
  },
  list: {
    name: 'GET /complaints',
    mutates: false,
    send: (t, _tk, who) => call(t, 'get', '/v1/complaints?status=escalated', who),
  },
  message: {
    name: 'POST /complaints/:id/messages',
    mutates: false,
    send: (t, tk, who) =>
      call(t, 'post', `/v1/complaints/${tk.id}/messages`, who, { body: 'A word for the file.' }),
  },
  offer: {
    name: 'POST /complaints/:id/offers',
    mutates: false,
    send: (t, tk, who) =>
      call(t, 'post', `/v1/complaints/${tk.id}/offers`, who, { type: 'refund', amountMinor: 100 }),
  },
  acceptOffer: {
    name: 'POST /complaints/:id/offers/:offerId/accept',
    mutates: true,
    send: (t, tk, who) =>
      call(t, 'post', `/v1/complaints/${tk.id}/offers/${tk.offerId}/accept`, who),
  },
  rejectOffer: {
    name: 'POST /complaints/:id/offers/:offerId/reject',
    mutates: true,
    send: (t, tk, who) =>
      call(t, 'post', `/v1/complaints/${tk.id}/offers/${tk.offerId}/reject`, who, { reason: 'no' }),
  },
  withdraw: {
    name: 'POST /complaints/:id/withdraw',
    mutates: true,
    send: (t, tk, who) => call(t, 'post', `/v1/complaints/${tk.id}/withdraw`, who, {}),
  },
  escalate: {
    name: 'POST /complaints/:id/escalate',
    mutates: true,
    send: (t, tk, who) =>
      call(t, 'post', `/v1/complaints/${tk.id}/escalate`, who, { reason: 'Not settled.' }),
  },
  regAccept: {
    name: 'POST /complaints/:id/accept',
    mutates: true,
    send: (t, tk, who) => call(t, 'post', `/v1/complaints/${tk.id}/accept`, who),
  },
  decline: {
    name: 'POST /complaints/:id/decline',
    mutates: true,
    send: (t, tk, who) =>
      call(t, 'post', `/v1/complaints/${tk.id}/decline`, who, { reason: 'no_clear_claim' }),
  },
  transfer: {
    name: 'POST /complaints/:id/transfer',
    mutates: true,
    send: (t, tk, who, ctx) =>
      call(t, 'post', `/v1/complaints/${tk.id}/transfer`, who, { officeId: ctx.targetOffice }),
  },
  mediation: {
    name: 'POST /complaints/:id/mediation',
    mutates: true,
    send: (t, tk, who) =>
      call(t, 'post', `/v1/complaints/${tk.id}/mediation`, who, {
        outcome: 'agreement',
        settlement: 'Repair within a week.',
      }),
  },
  events: {
    name: 'GET /complaints/:id/events',
    mutates: false,
    send: (t, tk, who) => call(t, 'get', `/v1/complaints/${tk.id}/events`, who),
  },
  verify: {
    name: 'GET /complaints/:id/events/verify',
    mutates: false,
    send: (t, tk, who) => call(t, 'get', `/v1/complaints/${tk.id}/events/verify`, who),
  },
};
type RouteKey = keyof typeof ROUTES;

/**
 * The matrix. Columns, in PARTIES order:
 *   owner consumer · other consumer · own merchant · other merchant ·
 *   office in jurisdiction · office outside · admin · no token
 * The state is the ticket's before the call; only escalated/mediating tickets have an office.
 */
// prettier-ignore
const MATRIX: [RouteKey, Setup, number[]][] = [
  //                                  owner other ownM  othM  offIn offOut admin none
  ['getOne',      'escalated',         [200,  404,  200,  404,  200,  404,  200,  401]],
  ['list',        'escalated',         [200,  200,  200,  200,  200,  200,  200,  401]],
  ['message',     'escalated',         [201,  404,  201,  404,  201,  404,  201,  401]],
  ['offer',       'in_negotiation',    [403,  403,  201,  404,  403,  403,  403,  401]],
  ['acceptOffer', 'pending_offer',     [200,  404,  403,  403,  403,  403,  403,  401]],
  ['rejectOffer', 'pending_offer',     [200,  404,  403,  403,  403,  403,  403,  401]],
  ['withdraw',    'awaiting_merchant', [200,  404,  403,  403,  403,  403,  403,  401]],
  ['escalate',    'in_negotiation',    [200,  404,  403,  403,  403,  403,  403,  401]],
  ['regAccept',   'escalated',         [403,  403,  403,  403,  200,  404,  200,  401]],
  ['decline',     'escalated',         [403,  403,  403,  403,  200,  404,  200,  401]],
  ['transfer',    'escalated',         [403,  403,  403,  403,  200,  404,  200,  401]],
  ['mediation',   'mediating',         [403,  403,  403,  403,  200,  404,  200,  401]],
  ['events',      'escalated',         [200,  404,  200,  404,  200,  404,  200,  401]],
  ['verify',      'escalated',         [200,  404,  200,  404,  200,  404,  200,  401]],
];

/** Right role, right party, wrong state: 409 with this code. */
// prettier-ignore
const WRONG_STATE: [RouteKey, Setup, Party, string][] = [
  ['message',     'resolved',              'owner consumer',         'INVALID_TRANSITION'],
  ['message',     'awaiting_merchant',     'admin',                  'INVALID_TRANSITION'],
  ['offer',       'escalated',             'own merchant',           'INVALID_TRANSITION'],
  ['offer',       'withdrawn',             'own merchant',           'INVALID_TRANSITION'],
  ['acceptOffer', 'escalated_after_offer', 'owner consumer',         'INVALID_TRANSITION'],
  ['acceptOffer', 'resolved',              'owner consumer',         'INVALID_TRANSITION'],
  ['rejectOffer', 'escalated_after_offer', 'owner consumer',         'INVALID_TRANSITION'],
  ['withdraw',    'escalated',             'owner consumer',         'INVALID_TRANSITION'],
  ['withdraw',    'resolved',              'owner consumer',         'INVALID_TRANSITION'],
  ['escalate',    'escalated',             'owner consumer',         'INVALID_TRANSITION'],
  ['escalate',    'resolved',              'owner consumer',         'INVALID_TRANSITION'],
  ['escalate',    'awaiting_merchant',     'owner consumer',         'ESCALATION_TOO_EARLY'],
  ['regAccept',   'mediating',             'office in jurisdiction', 'INVALID_TRANSITION'],
  ['regAccept',   'in_negotiation',        'admin',                  'INVALID_TRANSITION'],
  ['decline',     'mediating',             'office in jurisdiction', 'INVALID_TRANSITION'],
  ['decline',     'awaiting_merchant',     'admin',                  'INVALID_TRANSITION'],
  ['transfer',    'mediating',             'office in jurisdiction', 'INVALID_TRANSITION'],
  ['transfer',    'in_negotiation',        'admin',                  'INVALID_TRANSITION'],
  ['mediation',   'escalated',             'office in jurisdiction', 'INVALID_TRANSITION'],
  ['mediation',   'escalated',             'admin',                  'INVALID_TRANSITION'],
];

describe('complaint authorization matrix', () => {
  let t: TestApp;
  let own: Shop;
  let other: Shop;
  let officeIn: { id: string };
  let officeOut: { id: string };
  let target: { id: string };
  const shared: Partial<Record<Setup, Ticket>> = {};

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000' });
    own = await createShop(t, '630102');
    other = await createShop(t, '630102');
    officeIn = await createOffice(t, ['630102'], '西宁市城中区市场监督管理局');
    officeOut = await createOffice(t, ['630103'], '西宁市城东区市场监督管理局');
    target = await createOffice(t, ['630104'], '西宁市城西区市场监督管理局');
  });
  afterAll(() => t.close());

  const headersOf = (party: Party, tk: Ticket): H | null => {
    switch (party) {
      case 'owner consumer':
        return tk.consumer;
      case 'other consumer':
        return bearer(
          t.token({ role: 'consumer', sub: `sunmi-pos:x${randomBytes(4).toString('hex')}` }),
        );
      case 'own merchant':
        return own.staff;
      case 'other merchant':
        return other.staff;
      case 'office in jurisdiction':
        return bearer(t.token({ role: 'regulator', sub: 'officer-in', officeId: officeIn.id }));
      case 'office outside':
        return bearer(t.token({ role: 'regulator', sub: 'officer-out', officeId: officeOut.id }));
      case 'admin':
        return bearer(t.token({ role: 'admin', sub: 'ops-1' }));
      case 'no token':
        return null;
    }
  };

  const prepare = async (setup: Setup): Promise<Ticket> => {
    const regulator = headersOf('office in jurisdiction', {} as Ticket)!;
    if (setup !== 'escalated_after_offer') return ticketIn(t, own, setup, { regulator });
    const tk = await ticketIn(t, own, 'pending_offer');
    const res = await t.http
      .post(`/v1/complaints/${tk.id}/escalate`)
      .set(tk.consumer)
      .send({ reason: 'Not enough.' });
    if (res.status !== 200) throw new Error(`escalate: ${res.status} ${JSON.stringify(res.body)}`);
    return tk;
  };

  /** A fresh ticket when the route changes state, else one per state shared by the row. */
  const ticketFor = async (route: Route, setup: Setup): Promise<Ticket> => {
    if (route.mutates) return prepare(setup);
    shared[setup] ??= await prepare(setup);
    return shared[setup]!;
  };

  const snapshot = async (id: string) =>
    (await t.db.query('SELECT status, event_count FROM complaints WHERE id = $1', [id]))[0];

  const cells = MATRIX.flatMap(([key, setup, statuses]) =>
    PARTIES.map((party, i) => [ROUTES[key].name, party, statuses[i], key, setup] as const),
  );

  it('has a row for every complaint route and a column for every party', () => {
    expect(MATRIX.map(([k]) => k).sort()).toEqual(Object.keys(ROUTES).sort());
    for (const [, , statuses] of MATRIX) expect(statuses).toHaveLength(PARTIES.length);
  });

  it.each(cells)('%s as %s → %i', async (_name, party, expected, key, setup) => {
    const route = ROUTES[key];
    const tk = await ticketFor(route, setup);
    const before = await snapshot(tk.id);
    const res = await route.send(t, tk, headersOf(party, tk), { targetOffice: target.id });
    if (res.status !== expected) console.log(route.name, party, res.body);
    expect(res.status).toBe(expected);
    const code = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' }[expected as 401];
    if (code) {
      expect(res.body).toMatchObject({ status: expected, code });
      // Refused: nothing happened to the ticket, not even a trail entry.
      expect(await snapshot(tk.id)).toEqual(before);
    }
  });

  // Success is not just a status: who sees the ticket in their list, and what a success did.
  // prettier-ignore
  const LIST_SEES: [Party, boolean][] = [
    ['owner consumer', true], ['other consumer', false], ['own merchant', true],
    ['other merchant', false], ['office in jurisdiction', true], ['office outside', false],
    ['admin', true],
  ];
  it.each(LIST_SEES)(
    'GET /complaints?status=escalated as %s lists the ticket: %s',
    async (party, sees) => {
      const tk = await ticketFor(ROUTES.list, 'escalated');
      const who = headersOf(party, tk)!;
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const res: any = await t.http
          .get(`/v1/complaints?status=escalated&limit=100${cursor ? `&cursor=${cursor}` : ''}`)
          .set(who)
          .expect(200);
        ids.push(...res.body.items.map((x: any) => x.id));
        cursor = ids.includes(tk.id) ? null : res.body.nextCursor;
      } while (cursor);
      expect(ids.includes(tk.id)).toBe(sees);
    },
  );

  it.each(WRONG_STATE)('%s on a %s ticket as %s → 409 %s', async (key, setup, party, code) => {
    const route = ROUTES[key];
    const tk = await prepare(setup);
    const before = await snapshot(tk.id);
    const res = await route.send(t, tk, headersOf(party, tk), { targetOffice: target.id });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ status: 409, code });
    expect(await snapshot(tk.id)).toEqual(before);
  });

  it('the successes did what they say (spot checks on fresh tickets)', async () => {
    const office = headersOf('office in jurisdiction', {} as Ticket)!;
    const adminH = headersOf('admin', {} as Ticket)!;
    const a = await prepare('escalated');
    expect(
      (await ROUTES.transfer.send(t, a, office, { targetOffice: target.id })).body,
    ).toMatchObject({
      status: 'escalated',
      officeId: target.id,
    });
    const b = await prepare('escalated');
    expect(
      (await ROUTES.decline.send(t, b, adminH, { targetOffice: target.id })).body,
    ).toMatchObject({
      status: 'declined',
      declineReason: 'no_clear_claim',
    });
    const c = await prepare('mediating');
    expect(
      (await ROUTES.mediation.send(t, c, office, { targetOffice: target.id })).body.status,
    ).toBe('mediated');
    // An admin acting for the office is recorded as an admin, never as the office.
    const d = await prepare('escalated');
    await ROUTES.regAccept.send(t, d, adminH, { targetOffice: target.id });
    const events = (await t.http.get(`/v1/complaints/${d.id}/events`).set(adminH).expect(200)).body
      .items;
    expect(events.at(-1)).toMatchObject({
      type: 'accepted',
      actor: { role: 'admin', id: 'ops-1' },
    });
  });

  it('an id that is not a UUID is 404 for a party, 401 without a token', async () => {
    const adminH = headersOf('admin', {} as Ticket)!;
    expect((await t.http.get('/v1/complaints/not-a-uuid').set(adminH)).status).toBe(404);
    expect((await t.http.get('/v1/complaints/not-a-uuid')).status).toBe(401);
  });

  it('an expired or foreign-signed token is 401', async () => {
    const tk = await ticketFor(ROUTES.getOne, 'escalated');
    const expired = t.token({ role: 'consumer', sub: tk.consumerSub }, '-10s');
    const res = await t.http.get(`/v1/complaints/${tk.id}`).set(bearer(expired));
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
    const [h, p] = tk.consumer.Authorization.slice(7).split('.');
    const forged = await t.http
      .get(`/v1/complaints/${tk.id}`)
      .set({ Authorization: `Bearer ${h}.${p}.${'A'.repeat(43)}` });
    expect(forged.status).toBe(401);
  });
});
