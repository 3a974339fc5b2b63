import { DomainError } from '@app/shared';
import {
  ACTOR_ROLES,
  MERCHANT_PHASE_STATUSES,
  OPEN_STATUSES,
  TERMINAL_STATUSES,
  TICKET_ACTIONS,
  TICKET_STATUSES,
  TRANSITIONS,
  type ActorRole,
  type TicketAction,
  type TicketStatus,
  allowedActions,
  isAllowed,
  nextStatus,
} from './state-machine';

function refusal(from: TicketStatus, action: TicketAction, actor: ActorRole): DomainError {
  try {
    nextStatus(from, action, actor);
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error(`${actor} ${action} from ${from} was allowed`);
}

describe('lifecycle table: every (status × action × actor)', () => {
  const triples = TICKET_STATUSES.flatMap((from) =>
    TICKET_ACTIONS.flatMap((action) => ACTOR_ROLES.map((actor) => [from, action, actor] as const)),
  );

  it('walks all 11 × 32 × 5 = 1760 triples', () => {
    expect(triples).toHaveLength(1760);
    let allowed = 0;
    for (const [from, action, actor] of triples) {
      const row = TRANSITIONS.filter(
        (t) => t.from === from && t.action === action && t.actor === actor,
      );
      expect(row.length).toBeLessThanOrEqual(1);
      if (row.length === 1) {
        allowed += 1;
        expect(isAllowed(from, action, actor)).toBe(true);
        expect(nextStatus(from, action, actor)).toBe(row[0].to);
      } else {
        expect(isAllowed(from, action, actor)).toBe(false);
        const error = refusal(from, action, actor);
        expect(error.code).toBe('INVALID_TRANSITION');
        expect(error.status).toBe(409);
        expect(error.extra).toEqual({ status: from, action, actor });
      }
    }
    // A new row must be a deliberate change: update this count and DESIGN.md together.
    expect(allowed).toBe(TRANSITIONS.length);
    // 33 + settlement (15 rows: settling, offer expiry and reminders, refunds) + extend_deadline
    // (escalated, mediating × regulator, admin) + recompute_deadline (escalated, mediating,
    // appealed: system) + appeals (2 consumer appeals, 2 party messages on appealed, 5 rows ×
    // regulator, admin).
    expect(allowed).toBe(69);
  });

  it('explains a refusal in words', () => {
    expect(() => nextStatus('resolved', 'escalate', 'consumer')).toThrow(
      'A consumer cannot escalate on a ticket that is resolved',
    );
  });

  it('has no row leaving a terminal status but the appeal, and every open status has a way out', () => {
    for (const t of TRANSITIONS.filter((r) => r.action !== 'appeal'))
      expect(TERMINAL_STATUSES).not.toContain(t.from);
    expect(
      TRANSITIONS.filter((r) => r.action === 'appeal').map(({ from, actor, to }) => [
        from,
        actor,
        to,
      ]),
    ).toEqual([
      ['declined', 'consumer', 'appealed'],
      ['mediation_failed', 'consumer', 'appealed'],
    ]);
    for (const s of OPEN_STATUSES) {
      expect(TRANSITIONS.some((t) => t.from === s && t.to !== s)).toBe(true);
    }
  });

  it('partitions the statuses into open and terminal, merchant phase inside open', () => {
    expect([...OPEN_STATUSES, ...TERMINAL_STATUSES].sort()).toEqual([...TICKET_STATUSES].sort());
    for (const s of MERCHANT_PHASE_STATUSES) expect(OPEN_STATUSES).toContain(s);
  });

  it('reaches every status from awaiting_merchant', () => {
    const reached = new Set<TicketStatus>(['awaiting_merchant']);
    for (let grew = true; grew;) {
      grew = false;
      for (const t of TRANSITIONS) {
        if (reached.has(t.from) && !reached.has(t.to)) {
          reached.add(t.to);
          grew = true;
        }
      }
    }
    expect([...reached].sort()).toEqual([...TICKET_STATUSES].sort());
  });

  it('lets each role use only its own actions', () => {
    const byActor = (actor: ActorRole) =>
      [...new Set(TRANSITIONS.filter((t) => t.actor === actor).map((t) => t.action))].sort();
    expect(byActor('consumer')).toEqual(
      [
        'accept_offer',
        'accept_settled_offer',
        'appeal',
        'confirm_settlement',
        'consumer_message',
        'dispute_settlement',
        'escalate',
        'reject_offer',
        'withdraw',
      ].sort(),
    );
    expect(byActor('merchant')).toEqual(['make_offer', 'merchant_message']);
    expect(byActor('system')).toEqual(
      [
        'escalate_no_response',
        'escalate_unresolved',
        'escalate_unsettled',
        'expire_offer',
        'recompute_deadline',
        'record_refund',
        'remind_offer',
        'settle_by_refund',
        'settle_no_objection',
        'terminate_mediation_timeout',
      ].sort(),
    );
    expect(byActor('regulator')).toEqual(
      [
        'accept_case',
        'decline',
        'overturn_appeal_of_decline',
        'overturn_appeal_of_mediation_failure',
        'extend_deadline',
        'record_mediation_agreement',
        'record_mediation_failure',
        'regulator_message',
        'transfer',
        'uphold_appeal_of_decline',
        'uphold_appeal_of_mediation_failure',
      ].sort(),
    );
  });

  it('grants admin exactly the regulator rows', () => {
    const strip = (actor: ActorRole) =>
      TRANSITIONS.filter((t) => t.actor === actor).map(({ from, action, to }) => ({
        from,
        action,
        to,
      }));
    expect(strip('admin')).toEqual(strip('regulator'));
  });
});

/** One step of the table: from, action, actor → the status after it, or null: refused. */
type Step = [TicketStatus, TicketAction, ActorRole, TicketStatus | null];
/** A test of several steps, each row checked against nextStatus / isAllowed. */
function steps(title: string, rows: Step[]): void {
  it.each(rows)(`${title}: %s --%s (%s)--> %s`, (from, action, actor, to) => {
    if (to === null) expect(isAllowed(from, action, actor)).toBe(false);
    else expect(nextStatus(from, action, actor)).toBe(to);
  });
}

describe('lifecycle table against DESIGN.md', () => {
  describe('merchant phase', () => {
    it("moves to in_negotiation on the merchant's first message or offer", () => {
      expect(nextStatus('awaiting_merchant', 'merchant_message', 'merchant')).toBe(
        'in_negotiation',
      );
      expect(nextStatus('awaiting_merchant', 'make_offer', 'merchant')).toBe('in_negotiation');
    });

    it('keeps negotiating on further messages, offers (superseding) and rejections', () => {
      expect(nextStatus('in_negotiation', 'merchant_message', 'merchant')).toBe('in_negotiation');
      expect(nextStatus('in_negotiation', 'make_offer', 'merchant')).toBe('in_negotiation');
      expect(nextStatus('in_negotiation', 'reject_offer', 'consumer')).toBe('in_negotiation');
      expect(nextStatus('in_negotiation', 'consumer_message', 'consumer')).toBe('in_negotiation');
    });

    it('does not treat a consumer message as the merchant responding', () => {
      expect(nextStatus('awaiting_merchant', 'consumer_message', 'consumer')).toBe(
        'awaiting_merchant',
      );
    });

    steps('accepting an offer leads to settling (resolved at once only when refunds cover it)', [
      ['in_negotiation', 'accept_offer', 'consumer', 'settling'],
      ['in_negotiation', 'accept_settled_offer', 'consumer', 'resolved'],
      ['awaiting_merchant', 'accept_offer', 'consumer', null],
      ['in_negotiation', 'accept_offer', 'merchant', null],
    ]);

    it('settling → resolved is the only self-resolution: by refund, the consumer, or no objection', () => {
      const toResolved = TRANSITIONS.filter((t) => t.to === 'resolved').map(
        (t) => `${t.from}|${t.action}|${t.actor}`,
      );
      expect(toResolved.sort()).toEqual(
        [
          'in_negotiation|accept_settled_offer|consumer',
          'settling|confirm_settlement|consumer',
          'settling|settle_by_refund|system',
          'settling|settle_no_objection|system',
        ].sort(),
      );
      expect(nextStatus('settling', 'dispute_settlement', 'consumer')).toBe('escalated');
      expect(nextStatus('settling', 'escalate_unsettled', 'system')).toBe('escalated');
      // No escalation shortcut, no withdrawal, no new offer while the offer is carried out.
      for (const a of ['escalate', 'withdraw', 'accept_offer'] as const) {
        expect(isAllowed('settling', a, 'consumer')).toBe(false);
      }
      expect(isAllowed('settling', 'make_offer', 'merchant')).toBe(false);
    });

    it('an expired offer withdraws the ticket; a refund is the merchant’s response', () => {
      expect(nextStatus('in_negotiation', 'expire_offer', 'system')).toBe('withdrawn');
      expect(nextStatus('awaiting_merchant', 'record_refund', 'system')).toBe('in_negotiation');
      expect(nextStatus('settling', 'record_refund', 'system')).toBe('settling');
      for (const s of TERMINAL_STATUSES)
        expect(isAllowed(s, 'record_refund', 'system')).toBe(false);
    });

    steps('only the consumer withdraws, and only before escalation', [
      ['awaiting_merchant', 'withdraw', 'consumer', 'withdrawn'],
      ['in_negotiation', 'withdraw', 'consumer', 'withdrawn'],
      ['escalated', 'withdraw', 'consumer', null],
      ['mediating', 'withdraw', 'consumer', null],
      ['in_negotiation', 'withdraw', 'merchant', null],
    ]);

    steps('no offers once escalated', [
      ['escalated', 'make_offer', 'merchant', null],
      ['mediating', 'accept_offer', 'consumer', null],
    ]);
  });

  describe('escalation', () => {
    steps('by the consumer from either merchant-phase status (time rule checked apart)', [
      ['awaiting_merchant', 'escalate', 'consumer', 'escalated'],
      ['in_negotiation', 'escalate', 'consumer', 'escalated'],
      ['in_negotiation', 'escalate', 'merchant', null],
    ]);

    steps('by the worker: no response, or unresolved in time', [
      ['awaiting_merchant', 'escalate_no_response', 'system', 'escalated'],
      ['in_negotiation', 'escalate_unresolved', 'system', 'escalated'],
      ['in_negotiation', 'escalate_no_response', 'system', null],
      ['awaiting_merchant', 'escalate_unresolved', 'system', null],
    ]);

    it('never twice: an escalated ticket cannot be escalated again', () => {
      for (const action of ['escalate', 'escalate_no_response', 'escalate_unresolved'] as const) {
        for (const actor of ACTOR_ROLES) expect(isAllowed('escalated', action, actor)).toBe(false);
      }
    });
  });

  describe('regulator phase', () => {
    steps('accepts (受理) into mediation or declines (不予受理)', [
      ['escalated', 'accept_case', 'regulator', 'mediating'],
      ['escalated', 'decline', 'regulator', 'declined'],
    ]);

    steps('transfers to another office only before acceptance', [
      ['escalated', 'transfer', 'regulator', 'escalated'],
      ['mediating', 'transfer', 'regulator', null],
    ]);

    steps('ends mediation with an agreement, a failure, or the worker on timeout', [
      ['mediating', 'record_mediation_agreement', 'regulator', 'mediated'],
      ['mediating', 'record_mediation_failure', 'regulator', 'mediation_failed'],
      ['mediating', 'terminate_mediation_timeout', 'system', 'mediation_failed'],
    ]);

    steps('an admin acts for an office', [
      ['escalated', 'accept_case', 'admin', 'mediating'],
      ['mediating', 'record_mediation_failure', 'admin', 'mediation_failed'],
    ]);

    it('keeps merchants, consumers and the worker out of the office decisions', () => {
      for (const actor of ['consumer', 'merchant', 'system'] as const) {
        expect(isAllowed('escalated', 'accept_case', actor)).toBe(false);
        expect(isAllowed('escalated', 'decline', actor)).toBe(false);
        expect(isAllowed('mediating', 'record_mediation_agreement', actor)).toBe(false);
      }
    });
  });

  describe('appeals (申诉)', () => {
    it('the consumer alone appeals a declined or mediation_failed decision', () => {
      expect(nextStatus('declined', 'appeal', 'consumer')).toBe('appealed');
      expect(nextStatus('mediation_failed', 'appeal', 'consumer')).toBe('appealed');
      for (const s of ['mediated', 'resolved', 'withdrawn', 'escalated', 'appealed'] as const)
        expect(isAllowed(s, 'appeal', 'consumer')).toBe(false);
      for (const actor of ['merchant', 'regulator', 'admin', 'system'] as const)
        expect(isAllowed('declined', 'appeal', actor)).toBe(false);
    });

    it('upheld goes back to the decision; overturned reopens where it was decided', () => {
      for (const actor of ['regulator', 'admin'] as const) {
        expect(nextStatus('appealed', 'uphold_appeal_of_decline', actor)).toBe('declined');
        expect(nextStatus('appealed', 'uphold_appeal_of_mediation_failure', actor)).toBe(
          'mediation_failed',
        );
        expect(nextStatus('appealed', 'overturn_appeal_of_decline', actor)).toBe('escalated');
        expect(nextStatus('appealed', 'overturn_appeal_of_mediation_failure', actor)).toBe(
          'mediating',
        );
      }
      expect(isAllowed('appealed', 'overturn_appeal_of_decline', 'consumer')).toBe(false);
      expect(isAllowed('appealed', 'overturn_appeal_of_decline', 'system')).toBe(false);
      expect(isAllowed('declined', 'overturn_appeal_of_decline', 'regulator')).toBe(false);
    });

    it('an appealed ticket is open and takes statements from both parties and the office', () => {
      expect(OPEN_STATUSES).toContain('appealed');
      expect(TERMINAL_STATUSES).not.toContain('appealed');
      expect(nextStatus('appealed', 'consumer_message', 'consumer')).toBe('appealed');
      expect(nextStatus('appealed', 'merchant_message', 'merchant')).toBe('appealed');
      expect(nextStatus('appealed', 'regulator_message', 'regulator')).toBe('appealed');
    });
  });

  describe('messages', () => {
    it('the office speaks once the ticket is escalated, not before nor after', () => {
      expect(nextStatus('escalated', 'regulator_message', 'regulator')).toBe('escalated');
      expect(nextStatus('mediating', 'regulator_message', 'regulator')).toBe('mediating');
      expect(isAllowed('in_negotiation', 'regulator_message', 'regulator')).toBe(false);
      expect(isAllowed('mediated', 'regulator_message', 'regulator')).toBe(false);
    });

    it('both parties may add statements while the office decides and mediates', () => {
      for (const s of ['escalated', 'mediating'] as const) {
        expect(nextStatus(s, 'consumer_message', 'consumer')).toBe(s);
        expect(nextStatus(s, 'merchant_message', 'merchant')).toBe(s);
      }
    });

    it('closed tickets take no messages', () => {
      for (const s of TERMINAL_STATUSES) {
        expect(isAllowed(s, 'consumer_message', 'consumer')).toBe(false);
        expect(isAllowed(s, 'merchant_message', 'merchant')).toBe(false);
      }
    });
  });

  it('lists what an actor may do', () => {
    expect(allowedActions('in_negotiation', 'consumer').sort()).toEqual(
      [
        'accept_offer',
        'accept_settled_offer',
        'consumer_message',
        'escalate',
        'reject_offer',
        'withdraw',
      ].sort(),
    );
    expect(allowedActions('settling', 'consumer').sort()).toEqual(
      ['confirm_settlement', 'consumer_message', 'dispute_settlement'].sort(),
    );
    expect(allowedActions('resolved', 'consumer')).toEqual([]);
  });
});
