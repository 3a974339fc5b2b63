import { Inject, Injectable } from '@nestjs/common';
import { DomainError, HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { boundParams } from '@app/shared/queryable';
import type { Queryable } from '@app/shared/queryable';
import type { ComplaintRow } from '../complaint.row';
import type { PendingEvent } from '../trail';
import { mailKindOf } from '../mail/mail-templates';
import { webhookDelivery, webhookTypeOf } from '../webhooks/webhook-events';

/**
 * One change of one ticket: a new ticket (`insert`, its `created` event) or a guarded update of
 * a row this transaction read (`update`: only from `from.status`; `set` are the columns it
 * writes, the new chain head included; JSON text for jsonb columns, as PostgreSQL takes them).
 * `hooked: false` on an insert says the caller has just read that the merchant has no webhook
 * URL: no delivery payload is built for it (one ticketView and a JSON text per creation). The
 * INSERT checks the URL at write time whatever `hooked` says.
 */
export type TicketChange =
  | { kind: 'insert'; row: ComplaintRow; event: PendingEvent; hooked?: boolean }
  | { kind: 'update'; from: ComplaintRow; set: Record<string, unknown>; event: PendingEvent };

/** The columns a new ticket is inserted with; the others keep their defaults (all null). */
export const TICKET_INSERT_COLUMNS = [
  'id',
  'number',
  'status',
  'receipt_id',
  'consumer_id',
  'merchant_id',
  'store_id',
  'region_code',
  'order_snapshot',
  'category',
  'demand_type',
  'demand_amount_minor',
  'description',
  'contact_phone_enc',
  'contact_phone_masked',
  'idempotency_key',
  'merchant_respond_by',
  'resolve_by',
  'event_count',
  'head_hash',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof ComplaintRow)[];

/** Ticket columns of type jsonb: a Change sets them as JSON text. */
const JSONB_COLUMNS: ReadonlySet<string> = new Set([
  'order_snapshot',
  'mediation_outcome',
  'rule_limits',
  'deadline_basis',
  'extensions',
]);

const COLUMN = /^[a-z_]+$/;

/** The row as the change leaves it (webhook payloads and outbox rows are built from it). */
export function rowAfter(c: TicketChange): ComplaintRow {
  return c.kind === 'insert' ? c.row : ({ ...c.from, ...c.set } as ComplaintRow);
}

/** The `outbox` row's payload for an event (the statistics drain reads it). */
export function outboxPayload(t: ComplaintRow, event: PendingEvent): string {
  return JSON.stringify({ status: t.status, actor: event.actor, at: event.at, data: event.data });
}

/** A column's value as a JSON value of the patch (jsonb columns arrive as JSON text). */
function patchOf(set: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(set)) {
    if (!COLUMN.test(k)) throw new Error(`change writer: not a column name: ${k}`);
    out[k] = JSONB_COLUMNS.has(k) && typeof v === 'string' ? JSON.parse(v) : (v ?? null);
  }
  return out;
}

/** A ticket row by column name, values as a Change sets them (jsonb columns as JSON text or values). */
export type TicketColumns = Partial<Record<keyof ComplaintRow, unknown>>;

/**
 * The INSERT of whole ticket rows, `columns` of each from one jsonb parameter (`patches`, from
 * ticketPatches), typed by the table itself; the other columns keep their defaults. The writer's
 * insert, and the demo history's (scripts/demo-history.ts: finished tickets with their past).
 */
export function insertTicketsSql(
  patches: string,
  columns: readonly string[] = TICKET_INSERT_COLUMNS,
): string {
  for (const k of columns) if (!COLUMN.test(k)) throw new Error(`not a column name: ${k}`);
  const cols = columns.join(', ');
  return `INSERT INTO complaints (${cols})
              SELECT ${cols} FROM jsonb_populate_recordset(NULL::complaints, ${patches}::jsonb)`;
}

/** The parameter of insertTicketsSql: `columns` of each row (missing ones null), as JSON. */
export function ticketPatches(
  rows: readonly TicketColumns[],
  columns: readonly string[] = TICKET_INSERT_COLUMNS,
): string {
  return JSON.stringify(
    rows.map((r) =>
      patchOf(Object.fromEntries(columns.map((k) => [k, r[k as keyof ComplaintRow]]))),
    ),
  );
}

/**
 * THE write of a ticket change, for one ticket or a batch of thousands with the same statement
 * (a single change is a batch of one): in ONE statement of data-modifying CTEs,
 *  - the ticket rows: inserted, or updated only from the status they were read in (guarded),
 *  - their trail events (hash chained; the new head is part of the row's columns),
 *  - the statistics outbox rows,
 *  - the webhook deliveries of the events a merchant is told about (merchants with a URL),
 *  - the merchant's e-mail outbox rows (SMTP_URL set; merchants with a contact e-mail).
 * Events, outbox rows and deliveries are joined to the rows the first CTE really wrote, so a
 * lost guard or a unique violation writes nothing else. A guard that did not hold throws
 * INVALID_TRANSITION (the caller's transaction rolls back). Returns the rows as stored.
 */
@Injectable()
export class ChangeWriter {
  constructor(@Inject(HEJIE_CONFIG) private readonly config: HejieConfig) {}

  apply(tx: Queryable, changes: readonly TicketChange[]): Promise<ComplaintRow[]>;
  /**
   * `{ rows: false }`: only the ids of the rows written come back. The sweep's batches use it: a
   * batch of 2,000 whole rows returned (and parsed) for nothing was as large as the rows it read.
   */
  apply(
    tx: Queryable,
    changes: readonly TicketChange[],
    opts: { rows: false },
  ): Promise<Pick<ComplaintRow, 'id'>[]>;
  async apply(
    tx: Queryable,
    changes: readonly TicketChange[],
    opts: { rows?: boolean } = {},
  ): Promise<Pick<ComplaintRow, 'id'>[]> {
    if (!changes.length) return [];
    const kind = changes[0].kind;
    if (changes.some((c) => c.kind !== kind)) {
      throw new Error('change writer: a batch is all inserts or all updates');
    }
    const { params, p } = boundParams();
    const items = changes.map((c) => ({
      ticket: rowAfter(c),
      event: c.event,
      hooked: c.kind === 'insert' ? c.hooked : undefined,
    }));
    if (new Set(items.map((i) => i.ticket.id)).size !== items.length) {
      throw new Error('change writer: one change per ticket in a batch');
    }

    let rows: string;
    if (kind === 'insert') {
      rows = `${insertTicketsSql(p(ticketPatches(changes.map(rowAfter))))}
              RETURNING *`;
    } else {
      const updates = changes as Extract<TicketChange, { kind: 'update' }>[];
      const patches = updates.map((c) => patchOf(c.set));
      const cols = [...new Set(patches.flatMap((s) => Object.keys(s)))];
      rows = `UPDATE complaints c
                 SET (${cols.join(', ')}) =
                     (SELECT ${cols.map((k) => `r.${k}`).join(', ')} FROM jsonb_populate_record(c, u.patch) r)
                FROM unnest(${p(updates.map((c) => c.from.id))}::uuid[], ${p(updates.map((c) => c.from.status))}::text[],
                            ${p(patches.map((s) => JSON.stringify(s)))}::jsonb[]) AS u(id, expected, patch)
               WHERE c.id = u.id AND c.status = u.expected
              RETURNING c.*`;
    }

    const col = <T>(f: (i: (typeof items)[number]) => T): T[] => items.map(f);
    const events = `unnest(${p(col((i) => i.ticket.id))}::uuid[], ${p(col((i) => i.event.seq))}::int[],
        ${p(col((i) => i.event.type))}::text[], ${p(col((i) => i.event.actor.role))}::text[],
        ${p(col((i) => i.event.actor.id))}::text[], ${p(col((i) => i.event.at))}::timestamptz[],
        ${p(col((i) => JSON.stringify(i.event.data)))}::jsonb[], ${p(col((i) => i.event.prevHash))}::text[],
        ${p(col((i) => i.event.hash))}::text[], ${p(col((i) => outboxPayload(i.ticket, i.event)))}::jsonb[])
      AS e(complaint_id, seq, type, actor_role, actor_id, at, data, prev_hash, hash, outbox)`;

    const deliveries = await this.deliveries(tx, items);
    const mails = this.config.smtpUrl
      ? items.flatMap(({ ticket, event }) => {
          const kind = mailKindOf(event);
          return kind ? [{ ticket, event, kind }] : [];
        })
      : [];

    // The deliveries and mails, when there are any (the statement is planned for each call).
    const extra: string[] = [];
    if (deliveries.length) {
      extra.push(`
       wh AS (
         INSERT INTO webhook_deliveries (id, merchant_id, complaint_id, event_seq, type, payload, next_attempt_at, created_at)
         SELECT w.id, m.id, w.complaint_id, w.event_seq, w.type, w.payload, w.at, w.at
           FROM unnest(${p(deliveries.map((d) => d.id))}::uuid[], ${p(deliveries.map((d) => d.ticket.id))}::uuid[],
                       ${p(deliveries.map((d) => d.event.seq))}::int[], ${p(deliveries.map((d) => d.type))}::text[],
                       ${p(deliveries.map((d) => JSON.stringify(d.payload)))}::jsonb[],
                       ${p(deliveries.map((d) => d.event.at))}::timestamptz[])
                AS w(id, complaint_id, event_seq, type, payload, at)
           JOIN c ON c.id = w.complaint_id
           JOIN merchants m ON m.id = c.merchant_id
          WHERE m.webhook_url IS NOT NULL)`);
    }
    if (mails.length) {
      extra.push(`
       ml AS (
         INSERT INTO outbox (topic, complaint_id, event_seq, event_type, payload, created_at, next_attempt_at)
         SELECT 'mail', l.complaint_id, l.seq, l.type, jsonb_build_object('mailKind', l.kind), l.at, l.at
           FROM unnest(${p(mails.map((m) => m.ticket.id))}::uuid[], ${p(mails.map((m) => m.event.seq))}::int[],
                       ${p(mails.map((m) => m.event.type))}::text[], ${p(mails.map((m) => m.kind))}::text[],
                       ${p(mails.map((m) => m.event.at))}::timestamptz[])
                AS l(complaint_id, seq, type, kind, at)
           JOIN c ON c.id = l.complaint_id
           JOIN merchants m ON m.id = c.merchant_id AND m.contact_email IS NOT NULL
         ON CONFLICT (complaint_id, (payload->>'mailKind')) WHERE topic = 'mail' DO NOTHING)`);
    }
    const written = (await tx.query(
      `WITH c AS (${rows}),
       e AS (SELECT e.* FROM ${events} JOIN c ON c.id = e.complaint_id),
       ev AS (
         INSERT INTO complaint_events (complaint_id, seq, type, actor_role, actor_id, at, data, prev_hash, hash)
         SELECT complaint_id, seq, type, actor_role, actor_id, at, data, prev_hash, hash FROM e),
       ob AS (
         INSERT INTO outbox (topic, complaint_id, event_seq, event_type, payload, created_at)
         SELECT 'stats', complaint_id, seq, type, outbox, at FROM e)${extra.map((x) => `,${x}`).join('')}
       SELECT ${opts.rows === false ? 'c.id' : '*'} FROM c`,
      params,
    )) as Pick<ComplaintRow, 'id'>[];

    if (written.length !== changes.length) {
      const got = new Set(written.map((r) => r.id));
      const missed = items.find((i) => !got.has(i.ticket.id));
      // The guarded UPDATE found another status: a racing action won. Nothing else was written.
      throw new DomainError(
        'INVALID_TRANSITION',
        `complaint ${missed?.ticket.id ?? '?'} changed state meanwhile`,
      );
    }
    return written;
  }

  /**
   * The deliveries the merchants are owed for these events. For more than one, the merchants
   * with a webhook URL are looked up first, so that no payload is built for the others; a single
   * insert whose caller read "no URL" (`hooked: false`) gets none either. The INSERT checks the
   * URL again either way.
   */
  private async deliveries(
    tx: Queryable,
    items: readonly { ticket: ComplaintRow; event: PendingEvent; hooked?: boolean }[],
  ) {
    let told = items.filter(
      ({ event, hooked }) => hooked !== false && webhookTypeOf(event) !== null,
    );
    if (told.length > 1) {
      const hooked = (await tx.query(
        `SELECT id FROM merchants WHERE id = ANY($1::uuid[]) AND webhook_url IS NOT NULL`,
        [[...new Set(told.map(({ ticket }) => ticket.merchant_id))]],
      )) as { id: string }[];
      const ids = new Set(hooked.map((m) => m.id));
      told = told.filter(({ ticket }) => ids.has(ticket.merchant_id));
    }
    return told.map(({ ticket, event }) => ({
      ticket,
      event,
      ...webhookDelivery(ticket, event, this.config.piiKey)!,
    }));
  }
}
