/*
 * policy/visibility.ts: `canSee` (a row in hand) and `visibleWhere` (the SQL of lists and the
 * live feed) agree, on generated tickets and actors — consumers, merchants, officers of offices
 * (with their jurisdictions: tickets routed to them, or to another office, or unassigned) and
 * admins, plus tokens missing their merchant or office — in PostgreSQL with the real column
 * types (a temporary `complaints` with the table's columns, in this session only).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { Actor } from '@app/shared';
import type { ComplaintRow } from '../libs/complaints/src/complaint.row';
import { canSee, seesSerialFlag, visibleWhere } from '../libs/complaints/src/policy/visibility';

const consumers = ['alipay:2088000000000001', 'wechatpay:oUpF8u-one', 'alipay:2088000000000003'];
const merchants = [randomUUID(), randomUUID(), randomUUID()];
const offices = [randomUUID(), randomUUID()];

const ACTORS: Actor[] = [
  ...consumers.map((sub): Actor => ({ role: 'consumer', sub })),
  ...merchants.map((merchantId, i): Actor => ({ role: 'merchant', sub: `staff-${i}`, merchantId })),
  { role: 'merchant', sub: 'staff-without-merchant' },
  ...offices.map((officeId, i): Actor => ({ role: 'regulator', sub: `officer-${i}`, officeId })),
  { role: 'regulator', sub: 'officer-without-office' },
  { role: 'admin', sub: 'admin-1' },
];

describe('visibility: canSee and the SQL WHERE agree on generated tickets and actors', () => {
  let db: Client;
  let rows: ComplaintRow[];

  beforeAll(async () => {
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
    await db.query(`CREATE TEMP TABLE complaints AS SELECT * FROM public.complaints WITH NO DATA`);
    const generated: Record<string, unknown>[] = [];
    // Every consumer × merchant (the last has no tickets) × office or none.
    for (const consumer_id of consumers.slice(0, 2)) {
      for (const merchant_id of merchants.slice(0, 2)) {
        for (const office_id of [...offices, null]) {
          for (let n = 0; n < 2; n++) {
            generated.push({ id: randomUUID(), consumer_id, merchant_id, office_id });
          }
        }
      }
    }
    await db.query(
      `INSERT INTO complaints (id, consumer_id, merchant_id, office_id)
       SELECT id, consumer_id, merchant_id, office_id
         FROM jsonb_populate_recordset(NULL::complaints, $1::jsonb)`,
      [JSON.stringify(generated)],
    );
    rows = (await db.query<ComplaintRow>('SELECT * FROM complaints')).rows;
  });
  afterAll(() => db.end());

  const bySql = async (actor: Actor, alias?: string): Promise<Set<string>> => {
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const from = alias ? `complaints ${alias}` : 'complaints';
    const col = alias ? `${alias}.id` : 'id';
    const { rows: seen } = await db.query<{ id: string }>(
      `SELECT ${col} AS id FROM ${from} WHERE ${visibleWhere(actor, p, alias)}`,
      params,
    );
    return new Set(seen.map((r) => r.id));
  };

  it.each(ACTORS.map((a) => [`${a.role} ${a.sub}`, a] as const))(
    '%s: the query returns exactly the tickets canSee admits',
    async (_name, actor) => {
      for (const alias of [undefined, 'c']) {
        const sql = await bySql(actor, alias);
        const disagree = rows.filter((t) => sql.has(t.id) !== canSee(t, actor));
        expect(disagree).toEqual([]);
      }
    },
  );

  it('each kind of actor sees what it should, and not everything', async () => {
    const seen = async (a: Actor) => (await bySql(a)).size;
    expect(await seen(ACTORS.find((a) => a.role === 'admin')!)).toBe(rows.length);
    // Two consumers × two merchants × three office choices × two tickets = 24 tickets.
    expect(await seen({ role: 'consumer', sub: consumers[0] })).toBe(12);
    expect(await seen({ role: 'consumer', sub: consumers[2] })).toBe(0);
    expect(await seen({ role: 'merchant', sub: 's', merchantId: merchants[0] })).toBe(12);
    expect(await seen({ role: 'merchant', sub: 's' })).toBe(0);
    // An office sees what was routed to it: not another office's, not the unassigned queue.
    expect(await seen({ role: 'regulator', sub: 'o', officeId: offices[0] })).toBe(8);
    expect(await seen({ role: 'regulator', sub: 'o' })).toBe(0);
  });

  it('only regulators and admins see the serial-complainant flag', () => {
    expect(ACTORS.filter(seesSerialFlag).map((a) => a.role)).toEqual([
      'regulator',
      'regulator',
      'regulator',
      'admin',
    ]);
  });
});
