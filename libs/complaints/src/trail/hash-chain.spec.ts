import { createHash } from 'node:crypto';
import {
  GENESIS_HASH,
  type TrailEvent,
  type TrailEventContent,
  hashEvent,
  verifyChain,
} from './hash-chain';
import { nextEvent } from './trail.store';

function buildChain(): TrailEvent[] {
  const contents: Omit<TrailEventContent, 'seq'>[] = [
    {
      type: 'ticket_created',
      actor: { role: 'consumer', id: 'alipay:2088102177846880' },
      at: '2026-09-30T02:00:00.000Z',
      data: { receiptId: 'r-1', demand: { type: 'refund', amountMinor: 1990 } },
    },
    {
      type: 'message',
      actor: { role: 'merchant', id: 'staff-7' },
      at: '2026-09-30T03:00:00.000Z',
      data: { body: '您好，我们马上处理' },
    },
    {
      type: 'offer_made',
      actor: { role: 'merchant', id: 'staff-7' },
      at: '2026-09-30T04:00:00.000Z',
      data: { offerId: 'o-1', type: 'partial_refund', amountMinor: 1000, note: null },
    },
    {
      type: 'offer_rejected',
      actor: { role: 'consumer', id: 'alipay:2088102177846880' },
      at: '2026-09-30T05:00:00.000Z',
      data: { offerId: 'o-1', reason: 'too little' },
    },
    {
      type: 'escalated',
      actor: { role: 'consumer', id: 'alipay:2088102177846880' },
      at: '2026-09-30T06:00:00.000Z',
      data: { reason: 'consumer_request', officeId: 'office-330106' },
    },
  ];
  const chain: TrailEvent[] = [];
  for (const { type, actor, at, data } of contents) {
    const head = chain.at(-1);
    const link = { event_count: head?.seq ?? 0, head_hash: head?.hash ?? null };
    chain.push(nextEvent(link, type, actor, new Date(at), data));
  }
  return chain;
}

const clone = (chain: TrailEvent[]): TrailEvent[] => JSON.parse(JSON.stringify(chain));

describe('hashEvent', () => {
  const event: TrailEventContent = {
    seq: 1,
    type: 'ticket_created',
    actor: { role: 'consumer', id: 'c-1' },
    at: '2026-09-30T02:00:00.000Z',
    data: { a: 1, b: { c: 'x', d: [1, 2] } },
  };

  it('is sha256 of prevHash (hex text) followed by the canonical JSON of the event', () => {
    const canonical =
      '{"actor":{"id":"c-1","role":"consumer"},"at":"2026-09-30T02:00:00.000Z",' +
      '"data":{"a":1,"b":{"c":"x","d":[1,2]}},"seq":1,"type":"ticket_created"}';
    const expected = createHash('sha256')
      .update(GENESIS_HASH + canonical)
      .digest('hex');
    expect(hashEvent(GENESIS_HASH, event)).toBe(expected);
    expect(GENESIS_HASH).toBe('0'.repeat(64));
  });

  it('does not depend on the key order of data (or of anything else)', () => {
    const reordered: TrailEventContent = {
      data: { b: { d: [1, 2], c: 'x' }, a: 1 },
      at: event.at,
      actor: { id: 'c-1', role: 'consumer' },
      type: event.type,
      seq: 1,
    };
    expect(hashEvent(GENESIS_HASH, reordered)).toBe(hashEvent(GENESIS_HASH, event));
  });

  it('hashes only the event fields, not a stored row’s extra columns', () => {
    const row = { ...event, prevHash: GENESIS_HASH, hash: 'f'.repeat(64), id: 42 };
    expect(hashEvent(GENESIS_HASH, row)).toBe(hashEvent(GENESIS_HASH, event));
  });

  it('depends on the previous hash', () => {
    expect(hashEvent('1'.repeat(64), event)).not.toBe(hashEvent(GENESIS_HASH, event));
  });

  it('refuses a prevHash that is not 64 lowercase hex characters', () => {
    expect(() => hashEvent('ABC', event)).toThrow(/prevHash/);
    expect(() => hashEvent('A'.repeat(64), event)).toThrow(/prevHash/);
  });
});

describe('verifyChain', () => {
  it('verifies a chain of 5 events, also after a JSON round trip (as read from jsonb)', () => {
    const chain = buildChain();
    expect(chain.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(chain[0].prevHash).toBe(GENESIS_HASH);
    expect(verifyChain(chain)).toEqual({ valid: true, length: 5, headHash: chain[4].hash });
    expect(verifyChain(clone(chain)).valid).toBe(true);
  });

  it('verifies the empty chain', () => {
    expect(verifyChain([])).toEqual({ valid: true, length: 0, headHash: GENESIS_HASH });
  });

  const edits: [string, (e: TrailEvent) => void][] = [
    ['seq', (e) => (e.seq = 33)],
    ['type', (e) => (e.type = 'offer_accepted')],
    ['actor.role', (e) => (e.actor.role = 'consumer')],
    ['actor.id', (e) => (e.actor.id = 'staff-8')],
    ['at', (e) => (e.at = '2026-09-30T04:00:01.000Z')],
    ['data value', (e) => ((e.data as { amountMinor: number }).amountMinor = 1)],
    ['data: a field added', (e) => ((e.data as Record<string, unknown>).extra = true)],
    ['data: a field removed', (e) => delete (e.data as Record<string, unknown>).note],
    ['prevHash', (e) => (e.prevHash = '1'.repeat(64))],
    ['hash', (e) => (e.hash = '1'.repeat(64))],
  ];

  it.each(edits)('finds an edit of %s in event 3', (_field, edit) => {
    const chain = clone(buildChain());
    edit(chain[2]);
    expect(verifyChain(chain)).toEqual({ valid: false, length: 5, firstInvalidSeq: 3 });
  });

  it('finds an edit even when the editor recomputed that event’s hash', () => {
    const chain = clone(buildChain());
    chain[2].data = { offerId: 'o-1', type: 'refund', amountMinor: 1990, note: null };
    chain[2].hash = hashEvent(chain[2].prevHash, chain[2]);
    // Event 3 is self-consistent now, but event 4 still points at the old hash.
    expect(verifyChain(chain).firstInvalidSeq).toBe(4);
  });

  it('finds a deleted event', () => {
    const chain = clone(buildChain());
    chain.splice(2, 1);
    expect(verifyChain(chain)).toEqual({ valid: false, length: 4, firstInvalidSeq: 3 });
  });

  it('finds a deleted first event', () => {
    expect(verifyChain(clone(buildChain()).slice(1)).firstInvalidSeq).toBe(1);
  });

  it('finds reordered events', () => {
    const chain = clone(buildChain());
    [chain[1], chain[2]] = [chain[2], chain[1]];
    expect(verifyChain(chain).firstInvalidSeq).toBe(2);
  });

  it('cannot see a cut-off tail by itself; length and headHash show it against an anchor', () => {
    const chain = buildChain();
    const cut = verifyChain(chain.slice(0, 3));
    expect(cut.valid).toBe(true);
    expect(cut.length).toBe(3);
    expect(cut.headHash).not.toBe(chain[4].hash);
  });

  it('reports content that cannot be canonicalised as invalid rather than throwing', () => {
    const chain = clone(buildChain());
    (chain[1].data as Record<string, unknown>).body = 'a\ud800';
    expect(verifyChain(chain).firstInvalidSeq).toBe(2);
  });
});
