import type { Actor } from '@app/shared';
import { MERCHANT_PHASE_STATUSES, TICKET_STATUSES } from '../vocabulary';
import type { TicketStatus } from '../vocabulary';
import { ticketActions } from './actions';
import type { ActionFacts, ViewerAction } from './actions';

const now = new Date('2026-11-24T04:00:00Z'); // a Tuesday, 12:00 in Shanghai
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
/** The statuses a ticket reaches only through escalation (it has escalated_at). */
const REGULATOR_PHASE = TICKET_STATUSES.filter(
  (s) => !MERCHANT_PHASE_STATUSES.includes(s) && s !== 'resolved' && s !== 'withdrawn',
);

/** A ticket in `status` on which every time rule passes (each test below breaks one). */
function facts(status: TicketStatus, over: Partial<ActionFacts> = {}): ActionFacts {
  const escalated = REGULATOR_PHASE.includes(status);
  return {
    status,
    merchant_respond_by: hoursAgo(1),
    first_response_at: null,
    pending_offer_id: status === 'in_negotiation' ? 'offer-1' : null,
    escalated_at: escalated ? hoursAgo(72) : null,
    closed_at: null,
    extensions: [],
    deadline_basis: {},
    rule_set: 'cn-12315',
    rule_limits: null,
    decided_at: ['declined', 'mediation_failed', 'appealed', 'mediated'].includes(status)
      ? hoursAgo(24)
      : null,
    decided_by: 'officer-1',
    appealed_at: status === 'appealed' ? hoursAgo(2) : null,
    ...over,
  };
}

const consumer: Actor = { role: 'consumer', sub: 'consumer-1' };
const merchant: Actor = { role: 'merchant', sub: 'staff-1', merchantId: 'm-1' };
const officer: Actor = { role: 'regulator', sub: 'officer-2', officeId: 'o-1' };
const admin: Actor = { role: 'admin', sub: 'admin-1' };

// prettier-ignore
const EXPECTED: Record<'consumer' | 'merchant' | 'office', Record<TicketStatus, ViewerAction[]>> = {
  consumer: {
    awaiting_merchant: ['message', 'withdraw', 'escalate', 'attach'],
    in_negotiation:    ['message', 'accept_offer', 'reject_offer', 'withdraw', 'escalate', 'attach'],
    settling:          ['message', 'confirm_settlement', 'dispute_settlement', 'attach'],
    resolved:          [],
    withdrawn:         [],
    escalated:         ['message', 'add_case_details', 'attach'],
    mediating:         ['message', 'add_case_details', 'attach'],
    declined:          ['appeal', 'add_case_details'],
    mediated:          ['add_case_details'],
    mediation_failed:  ['appeal', 'add_case_details'],
    appealed:          ['message', 'add_case_details', 'attach'],
  },
  merchant: {
    awaiting_merchant: ['message', 'offer', 'attach'],
    in_negotiation:    ['message', 'offer', 'attach'],
    settling:          ['message', 'attach'],
    resolved:          [],
    withdrawn:         [],
    escalated:         ['message', 'attach'],
    mediating:         ['message', 'attach'],
    declined:          [],
    mediated:          [],
    mediation_failed:  [],
    appealed:          ['message', 'attach'],
  },
  office: {
    awaiting_merchant: ['attach'],
    in_negotiation:    ['attach'],
    settling:          ['attach'],
    resolved:          [],
    withdrawn:         [],
    escalated:         ['message', 'attach', 'accept_case', 'decline', 'transfer', 'extend'],
    mediating:         ['message', 'attach', 'extend', 'mediate'],
    declined:          [],
    mediated:          [],
    mediation_failed:  [],
    appealed:          ['message', 'attach', 'decide_appeal'],
  },
};

describe('ticketActions: per status and role', () => {
  const viewers: [string, Actor, keyof typeof EXPECTED][] = [
    ['consumer', consumer, 'consumer'],
    ['merchant', merchant, 'merchant'],
    ['regulator', officer, 'office'],
    ['admin', admin, 'office'],
  ];
  for (const [name, viewer, expected] of viewers) {
    it.each([...TICKET_STATUSES])(`${name}, %s`, (status) => {
      expect(ticketActions(facts(status), viewer, now)).toEqual(EXPECTED[expected][status]);
    });
  }
});

describe('ticketActions: the time and once-only rules', () => {
  it('escalate: not while the merchant has time and has not responded (ESCALATION_TOO_EARLY)', () => {
    const early = facts('awaiting_merchant', { merchant_respond_by: new Date(now.getTime() + 1) });
    expect(ticketActions(early, consumer, now)).not.toContain('escalate');
    expect(ticketActions(early, consumer, now)).toContain('withdraw');
    // From merchantRespondBy on (inclusive), or once the merchant responded.
    expect(ticketActions({ ...early, merchant_respond_by: now }, consumer, now)).toContain(
      'escalate',
    );
    expect(ticketActions({ ...early, first_response_at: hoursAgo(1) }, consumer, now)).toContain(
      'escalate',
    );
  });

  it('accept_offer / reject_offer: only while an offer is pending', () => {
    const none = ticketActions(facts('in_negotiation', { pending_offer_id: null }), consumer, now);
    expect(none).not.toContain('accept_offer');
    expect(none).not.toContain('reject_offer');
  });

  it('appeal: within the window only, and once', () => {
    // 15 working days after the decision: a decision three months ago is out of the window.
    const late = facts('declined', { decided_at: new Date('2026-08-01T00:00:00Z') });
    expect(ticketActions(late, consumer, now)).not.toContain('appeal');
    // A decision recorded before decided_at existed: its closed_at counts.
    const legacy = facts('declined', { decided_at: null, closed_at: hoursAgo(24) });
    expect(ticketActions(legacy, consumer, now)).toContain('appeal');
    const again = facts('mediation_failed', { appealed_at: hoursAgo(1) });
    expect(ticketActions(again, consumer, now)).not.toContain('appeal');
  });

  it('add_case_details: the consumer, from escalation on', () => {
    expect(ticketActions(facts('declined', { escalated_at: null }), consumer, now)).not.toContain(
      'add_case_details',
    );
    expect(ticketActions(facts('escalated'), officer, now)).not.toContain('add_case_details');
  });

  it('extend: the running deadline, once per period', () => {
    const used = [
      { deadline: 'acceptBy', workdays: 2, reason: 'more facts', at: hoursAgo(10).toISOString() },
    ];
    expect(ticketActions(facts('escalated', { extensions: used }), officer, now)).not.toContain(
      'extend',
    );
    // An extension of the other deadline does not count.
    expect(ticketActions(facts('mediating', { extensions: used }), officer, now)).toContain(
      'extend',
    );
    // A transfer started a new acceptance period after that extension: one more.
    const fresh = { acceptBy: { basis: 'official' as const, from: hoursAgo(5).toISOString() } };
    expect(
      ticketActions(facts('escalated', { extensions: used, deadline_basis: fresh }), officer, now),
    ).toContain('extend');
  });

  it('decide_appeal: not the officer who made the appealed decision', () => {
    const own = facts('appealed', { decided_by: officer.sub });
    expect(ticketActions(own, officer, now)).not.toContain('decide_appeal');
    expect(ticketActions(own, { ...officer, sub: 'officer-3' }, now)).toContain('decide_appeal');
    // A decision the worker made (mediation timed out): any officer.
    expect(ticketActions(facts('appealed', { decided_by: null }), officer, now)).toContain(
      'decide_appeal',
    );
  });
});
