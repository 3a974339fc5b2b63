/*
 * The deadline sweep's batch (EscalationUseCase.sweepBatch), driven directly: overdue tickets of
 * both kinds (awaiting_merchant past merchantRespondBy, in_negotiation past resolveBy) in three
 * regions — two offices by longest prefix, one region no office covers — escalated in one batch,
 * each exactly as the per-ticket path (escalateIfDue) escalates a ticket: same columns, one
 * hash-chained `escalated` event, one outbox row, one webhook delivery when the merchant has a
 * URL, one acceptance deadline job.
 *
 * Every suite shares the run's database; the sweep also takes other suites' overdue tickets (as
 * the worker suites' sweeps do), so only this suite's tickets are checked. Its region codes are
 * its own: Inner Mongolia, offices for 1501 and 150102, none for 150203.
 */
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { EscalationUseCase } from '../libs/complaints/src/use-cases/escalation';
import { DEADLINES_QUEUE, deadlineJobId } from '../libs/complaints/src/jobs/jobs';
import { computeAcceptBy } from '../libs/complaints/src/lifecycle';
import { verifyTrail, readTrail } from '../libs/complaints/src/trail';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createOffice, Shop, Ticket, ticketIn } from './factories/complaint.factory';
import { createMerchant, createStore } from './factories/directory.factory';

/** A shop whose merchant may have a webhook URL (nothing listens: the deliveries stay queued). */
async function shopIn(t: TestApp, regionCode: string, webhookUrl?: string): Promise<Shop> {
  const merchant = await createMerchant(t, webhookUrl ? { webhookUrl } : {});
  const store = await createStore(t, merchant.id, { regionCode });
  const account = (provider: string) =>
    store.paymentAccounts.find((a) => a.provider === provider)!.accountId;
  return {
    merchant,
    store,
    account,
    accountId: account('sunmi-pos'),
    staff: bearer(t.token({ role: 'merchant', sub: 'staff-sweep', merchantId: merchant.id })),
  };
}

interface Row {
  id: string;
  status: string;
  merchant_id: string;
  office_id: string | null;
  escalated_at: Date | null;
  escalation_reason: string | null;
  accept_by: Date | null;
  pending_offer_id: string | null;
  event_count: number;
  head_hash: string | null;
  updated_at: Date;
}

describe('deadline sweep: one set-based batch', () => {
  let t: TestApp;
  let sweeper: EscalationUseCase;
  let queue: Queue;
  const admin = () => bearer(t.token({ role: 'admin' }));

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000', WEBHOOK_ALLOW_PRIVATE: 'true' });
    sweeper = t.app.get(EscalationUseCase, { strict: false });
    queue = t.app.get<Queue>(getQueueToken(DEADLINES_QUEUE), { strict: false });
  });
  afterAll(() => t.close());

  const rowsOf = (ids: string[]): Promise<Row[]> =>
    t.db.query('SELECT * FROM complaints WHERE id = ANY($1::uuid[]) ORDER BY id', [ids]);

  it('escalates a mix of kinds and regions as escalateIfDue would, each once, with a valid trail', async () => {
    const city = await createOffice(t, ['1501'], '呼和浩特市市场监督管理局');
    const district = await createOffice(t, ['150102'], '呼和浩特市新城区市场监督管理局');
    const regions = [
      { code: '150102', office: district.id as string | null },
      { code: '150105', office: city.id as string | null },
      { code: '150203', office: null }, // no office covers Baotou: unassigned
    ];
    const hookUrl = 'http://127.0.0.1:9/hejie-sweep-test';
    type Case = {
      ticket: Ticket;
      shop: Shop;
      office: string | null;
      reason: string;
      hooked: boolean;
    };
    const due: Case[] = [];
    const controls: Ticket[] = [];
    for (const [i, region] of regions.entries()) {
      const hooked = i !== 1; // the merchant in 150105 has no webhook URL
      const shop = await shopIn(t, region.code, hooked ? hookUrl : undefined);
      for (let k = 0; k < 2; k++) {
        for (const [state, reason] of [
          ['awaiting_merchant', 'merchant_no_response'],
          ['in_negotiation', 'unresolved_in_time'],
        ] as const) {
          const ticket = await ticketIn(t, shop, state);
          due.push({ ticket, shop, office: region.office, reason, hooked });
        }
      }
      // Not due: an offer is waiting for the consumer; the merchant's time is not up yet.
      controls.push(await ticketIn(t, shop, 'pending_offer'));
      controls.push(await ticketIn(t, shop, 'awaiting_merchant'));
    }
    const ids = due.map((d) => d.ticket.id);
    const byKind = (reason: string) => due.filter((d) => d.reason === reason);
    await t.db.query(
      `UPDATE complaints SET merchant_respond_by = now() - interval '1 minute' WHERE id = ANY($1::uuid[])`,
      [byKind('merchant_no_response').map((d) => d.ticket.id)],
    );
    await t.db.query(
      `UPDATE complaints SET resolve_by = now() - interval '1 minute' WHERE id = ANY($1::uuid[])`,
      [[...byKind('unresolved_in_time').map((d) => d.ticket.id), controls[0].id]],
    );
    const before = new Map((await rowsOf(ids)).map((r) => [r.id, r]));
    const controlsBefore = await rowsOf(controls.map((c) => c.id));

    // The per-ticket path on one of them first: the reference the batch must match.
    const single = due.shift()!;
    expect(await sweeper.escalateIfDue(single.ticket.id)).toBe('merchant_no_response');

    let total = 0;
    for (;;) {
      const r = await sweeper.sweepBatch(500);
      await r.scheduled;
      total += r.escalated;
      if (r.escalated + r.terminated === 0) break;
    }
    expect(total).toBeGreaterThanOrEqual(due.length);

    const rows = new Map((await rowsOf(ids)).map((r) => [r.id, r]));
    const batchAt = rows.get(due[0].ticket.id)!.escalated_at!;
    for (const d of [single, ...due]) {
      const row = rows.get(d.ticket.id)!;
      const was = before.get(d.ticket.id)!;
      const at = row.escalated_at!;
      expect({
        id: row.id,
        status: row.status,
        office: row.office_id,
        reason: row.escalation_reason,
        pendingOffer: row.pending_offer_id,
        acceptBy: row.accept_by?.toISOString(),
        updatedAt: row.updated_at.toISOString(),
        eventCount: row.event_count,
      }).toEqual({
        id: d.ticket.id,
        status: 'escalated',
        office: d.office,
        reason: d.reason,
        pendingOffer: null,
        acceptBy: computeAcceptBy(at, 7).toISOString(),
        updatedAt: at.toISOString(),
        eventCount: was.event_count + 1,
      });
      if (d !== single) expect(at).toEqual(batchAt); // one `now` for the batch

      // Exactly one escalated event, the new head of a chain that verifies.
      const trail = await readTrail(t.db.manager, d.ticket.id);
      expect(verifyTrail(trail, row)).toMatchObject({ valid: true, length: was.event_count + 1 });
      const verified = await t.http
        .get(`/v1/complaints/${d.ticket.id}/events/verify`)
        .set(admin())
        .expect(200);
      expect(verified.body).toEqual({ valid: true, length: was.event_count + 1 });
      const escalations = trail.filter((e) => e.type === 'escalated');
      expect(escalations).toHaveLength(1);
      const [event] = escalations;
      expect(event).toMatchObject({
        seq: was.event_count + 1,
        prevHash: was.head_hash,
        hash: row.head_hash,
        actor: { role: 'system', id: 'deadline-worker' },
        at: at.toISOString(),
        data: {
          reason: d.reason,
          consumerReason: null,
          officeId: d.office,
          acceptBy: row.accept_by!.toISOString(),
          ruleSet: 'cn-12315',
          from: d.reason === 'merchant_no_response' ? 'awaiting_merchant' : 'in_negotiation',
          to: 'escalated',
        },
      });
      expect(Object.keys(event.data as object).sort()).toEqual(
        [
          'acceptBy',
          'acceptByBasis',
          'consumerReason',
          'from',
          'officeId',
          'reason',
          'ruleSet',
          'to',
        ].sort(),
      );

      // One outbox row for the statistics, the event as the drain reads it.
      const outbox = await t.db.query(
        `SELECT event_seq, payload, created_at FROM outbox WHERE complaint_id = $1 AND event_type = 'escalated'`,
        [d.ticket.id],
      );
      expect(outbox).toEqual([
        {
          event_seq: event.seq,
          payload: { status: 'escalated', actor: event.actor, at: event.at, data: event.data },
          created_at: at,
        },
      ]);

      // One webhook delivery when the merchant has a URL, the ticket as the merchant sees it.
      const deliveries = await t.db.query(
        `SELECT merchant_id, event_seq, type, payload, state, next_attempt_at FROM webhook_deliveries
          WHERE complaint_id = $1 AND type = 'complaint.escalated'`,
        [d.ticket.id],
      );
      expect(deliveries).toHaveLength(d.hooked ? 1 : 0);
      if (d.hooked) {
        const [w] = deliveries;
        expect(w).toMatchObject({
          merchant_id: d.shop.merchant.id,
          event_seq: event.seq,
          state: 'pending',
          next_attempt_at: at,
        });
        expect(w.payload).toMatchObject({
          type: 'complaint.escalated',
          occurredAt: at.toISOString(),
          eventSeq: event.seq,
          data: event.data,
          complaint: {
            id: d.ticket.id,
            status: 'escalated',
            officeId: d.office,
            escalationReason: d.reason,
            escalatedAt: at.toISOString(),
            acceptBy: row.accept_by!.toISOString(),
            pendingOfferId: null,
          },
        });
      }

      // No acceptance deadline job (FLAG_ONLY_DEADLINES): it would change nothing, the view and
      // /metrics read accept_by; a delayed job per escalated ticket was Redis work for nothing.
      const job = await queue.getJob(deadlineJobId(d.ticket.id, 'acceptance', row.accept_by!));
      expect(job ?? null).toBeNull();
    }
    // Tickets that were not due are untouched.
    expect(await rowsOf(controls.map((c) => c.id))).toEqual(controlsBefore);
  }, 60_000);
});
