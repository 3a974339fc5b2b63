/*
 * policy/due-rules.ts: each due rule's SQL (the sweep's) and its TypeScript (the delayed job's,
 * the dashboards' actions) agree ticket by ticket, on tickets generated around each deadline —
 * every status × each deadline just before, at and just after `now` (and far off, and unset
 * where it may be) × an offer waiting for the consumer or not — stored in PostgreSQL with the
 * real column types (a temporary `complaints` with the table's columns, in this session only).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { ComplaintRow } from '../libs/complaints/src/complaint.row';
import { TICKET_STATUSES } from '../libs/complaints/src/vocabulary';
import {
  DUE_ESCALATIONS,
  DUE_RULES,
  MEDIATION_TIMEOUT,
  dueEscalation,
} from '../libs/complaints/src/policy/due-rules';

const NOW = new Date('2026-11-23T08:00:00.000Z');
const at = (ms: number | null) => (ms === null ? null : new Date(NOW.getTime() + ms));
/** Around each deadline: far before, 1 ms before, exactly now, 1 ms after, far after. */
const AROUND = [-86_400_000, -1, 0, 1, 86_400_000];

describe('due rules: the SQL and the TypeScript agree on generated tickets', () => {
  let db: Client;
  let rows: ComplaintRow[];

  beforeAll(async () => {
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
    // The table's columns and types, without its constraints; shadows public.complaints here.
    await db.query(`CREATE TEMP TABLE complaints AS SELECT * FROM public.complaints WITH NO DATA`);
    const generated: Record<string, unknown>[] = [];
    for (const status of TICKET_STATUSES) {
      for (const respond of AROUND) {
        for (const resolve of AROUND) {
          for (const mediation of [...AROUND, null]) {
            for (const pending of [null, randomUUID()]) {
              generated.push({
                id: randomUUID(),
                status,
                merchant_respond_by: at(respond),
                resolve_by: at(resolve),
                mediation_end_by: at(mediation),
                pending_offer_id: pending,
              });
            }
          }
        }
      }
    }
    await db.query(
      `INSERT INTO complaints (id, status, merchant_respond_by, resolve_by, mediation_end_by, pending_offer_id)
       SELECT id, status, merchant_respond_by, resolve_by, mediation_end_by, pending_offer_id
         FROM jsonb_populate_recordset(NULL::complaints, $1::jsonb)`,
      [JSON.stringify(generated)],
    );
    // The rows as PostgreSQL returns them (Date, null), as the worker reads them.
    rows = (await db.query<ComplaintRow>('SELECT * FROM complaints')).rows;
  });
  afterAll(() => db.end());

  it('generated every status around every deadline', () => {
    expect(rows).toHaveLength(TICKET_STATUSES.length * 5 * 5 * 6 * 2);
  });

  it.each(DUE_RULES.map((r) => [r.action, r] as const))(
    '%s: the sweep selects exactly the tickets isDue accepts',
    async (_action, rule) => {
      const { rows: selected } = await db.query<{ id: string }>(
        `SELECT id FROM complaints WHERE ${rule.where}`,
        [NOW],
      );
      const bySql = new Set(selected.map((r) => r.id));
      const disagree = rows.filter((t) => bySql.has(t.id) !== rule.isDue(t, NOW));
      expect(disagree.map((t) => ({ ...t, sql: bySql.has(t.id) }))).toEqual([]);
      // Not vacuous: some tickets are due, most are not, and the deadline itself is due.
      expect(bySql.size).toBeGreaterThan(0);
      expect(bySql.size).toBeLessThan(rows.length / 4);
      const atDeadline = rows.find(
        (t) => rule.isDue(t, NOW) && (t[rule.deadline] as Date | null)?.getTime() === NOW.getTime(),
      );
      expect(atDeadline && bySql.has(atDeadline.id)).toBe(true);
    },
  );

  it('one millisecond before the deadline nothing is due', () => {
    for (const rule of DUE_RULES) {
      const early = rows.filter(
        (t) => (t[rule.deadline] as Date | null)?.getTime() === NOW.getTime() + 1,
      );
      expect(early.length).toBeGreaterThan(0);
      expect(early.filter((t) => rule.isDue(t, NOW))).toEqual([]);
    }
  });

  it('an offer waiting for the consumer holds off the unresolved escalation only', () => {
    const due = (t: ComplaintRow) => dueEscalation(t, NOW)?.reason ?? null;
    const negotiating = rows.filter(
      (t) => t.status === 'in_negotiation' && t.resolve_by.getTime() <= NOW.getTime(),
    );
    expect(negotiating.filter((t) => t.pending_offer_id).map(due)).not.toContain(
      'unresolved_in_time',
    );
    expect(new Set(negotiating.filter((t) => !t.pending_offer_id).map(due))).toEqual(
      new Set(['unresolved_in_time']),
    );
    const awaiting = rows.filter(
      (t) => t.status === 'awaiting_merchant' && t.merchant_respond_by.getTime() <= NOW.getTime(),
    );
    expect(new Set(awaiting.map(due))).toEqual(new Set(['merchant_no_response']));
  });

  it('the escalations and the mediation limit never overlap (one rule per ticket)', () => {
    for (const t of rows) {
      const matching = DUE_RULES.filter((r) => r.isDue(t, NOW));
      expect(matching.length).toBeLessThanOrEqual(1);
    }
    expect(DUE_ESCALATIONS).not.toContain(MEDIATION_TIMEOUT);
  });
});
