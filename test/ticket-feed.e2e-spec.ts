/*
 * The ticket change feed (libs/complaints/src/feed) behind GET /v1/stream: from a cursor at the
 * outbox's head, a poll yields each changed ticket once, and each subscriber is told only what
 * it may see, shaped as GET /v1/complaints/:id is for it. (The SSE wiring itself is tested in
 * security-ops and web.)
 */
import { TicketFeed } from '@app/complaints';
import type { FeedCursor, FeedChange } from '@app/complaints';
import type { Actor } from '@app/shared';
import { startTestApp } from './helpers/test-app';
import type { TestApp } from './helpers/test-app';
import { createShop, ticketIn } from './factories/complaint.factory';

describe('ticket change feed', () => {
  let t: TestApp;
  let feed: TicketFeed;

  beforeAll(async () => {
    t = await startTestApp();
    feed = t.app.get(TicketFeed, { strict: false });
  });
  afterAll(() => t.close());

  /** Everything the feed has past the cursor now (polls until a poll reads nothing new). */
  async function drain(cursor: FeedCursor, limit = 1000): Promise<FeedChange[]> {
    const out: FeedChange[] = [];
    for (let round = 0; round < 50; round++) {
      const before = cursor.position;
      out.push(...(await feed.poll(cursor, limit)));
      if (cursor.position === before) return out;
    }
    throw new Error('the feed never caught up');
  }

  it('yields each changed ticket from the cursor on; each subscriber sees only its own', async () => {
    const shop = await createShop(t, '330106');
    const other = await createShop(t, '330106');
    const cursor = (await feed.start())!;
    expect(cursor).not.toBeNull();
    expect(await drain(cursor)).toEqual([]);

    const tk = await ticketIn(t, shop, 'awaiting_merchant', { contactPhone: '13712345678' });
    const changes = (await drain(cursor)).filter((c) => c.row.id === tk.id);
    expect(changes).toHaveLength(1);
    const [change] = changes;
    expect(change.key).toBe(`${tk.id}:${change.row.event_count}`);
    expect(change.lastEventType).toBe('created');

    const staff: Actor = { role: 'merchant', sub: 's1', merchantId: shop.merchant.id };
    const rival: Actor = { role: 'merchant', sub: 's2', merchantId: other.merchant.id };
    const payer: Actor = { role: 'consumer', sub: tk.consumerSub };
    const stranger: Actor = { role: 'consumer', sub: 'alipay:someone-else' };
    const admin: Actor = { role: 'admin', sub: 'root' };

    const forStaff = feed.eventFor(change, staff);
    expect(forStaff?.ticket.id).toBe(tk.id);
    expect(forStaff?.ticket.status).toBe('awaiting_merchant');
    expect(forStaff?.ticket.contactPhone).toBe('137****5678'); // masked, as in REST
    expect(feed.eventFor(change, payer)?.ticket.contactPhone).toBe('13712345678');
    expect(feed.eventFor(change, admin)?.ticket.id).toBe(tk.id);
    expect(feed.eventFor(change, rival)).toBeNull();
    expect(feed.eventFor(change, stranger)).toBeNull();

    // A later change of the same ticket comes once more, with its new state; nothing repeats.
    await t.http
      .post(`/v1/complaints/${tk.id}/messages`)
      .set(shop.staff)
      .send({ body: 'We will exchange it.' })
      .expect(201);
    const next = (await drain(cursor)).filter((c) => c.row.id === tk.id);
    expect(next.map((c) => [c.row.status, c.lastEventType])).toEqual([
      ['in_negotiation', 'message'],
    ]);
    expect(await drain(cursor)).toEqual([]);
  });

  it('reads at most `limit` outbox rows per poll and goes on where it stopped', async () => {
    const shop = await createShop(t, '330106');
    const cursor = (await feed.start())!;
    const a = await ticketIn(t, shop, 'awaiting_merchant');
    const b = await ticketIn(t, shop, 'awaiting_merchant');
    const first = await feed.poll(cursor, 1);
    expect(first.map((c) => c.row.id)).toEqual([a.id]);
    const rest = (await drain(cursor, 1)).map((c) => c.row.id);
    expect(rest).toContain(b.id);
  });
});
