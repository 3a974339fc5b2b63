import type { Actor } from '@app/shared';
import { isAllowed } from '../lifecycle/state-machine';
import type { ActorRole, TicketAction } from '../lifecycle/state-machine';
import { consumerEscalationTooEarly, escalationFactsOf } from '../lifecycle/escalation-policy';
import {
  appealFactsOf,
  assertMayAppeal,
  assertMayDecideAppeal,
  ticketAppealLimits,
} from '../appeals/appeal-policy';
import { mayAttach } from '../evidence/evidence-policy';
import type { WorkingDayCalendar } from '../lifecycle/working-days';
import { EXTENDABLE_DEADLINES, extensionUsed } from '../rules/extensions';
import type { ExtendableDeadline } from '../rules/extensions';
import type { ComplaintRow } from '../complaint.row';

/**
 * What the viewer of a ticket may do on it now (TicketView.actions), so the dashboards render
 * their buttons from the server's answer instead of re-deriving the rules. Each name is one
 * request of API.md; a name is listed when the state table (lifecycle/state-machine.ts) has the
 * row for the viewer's role AND the rule the service checks before the table passes now (the
 * same functions, imported). Races are still decided by the guarded write: an action listed here
 * can be refused a moment later (409) when someone else acted first.
 */
export const VIEWER_ACTIONS = [
  /** POST …/messages */
  'message',
  /** POST …/offers (merchant) */
  'offer',
  /** POST …/offers/:pendingOfferId/accept | reject (consumer) */
  'accept_offer',
  'reject_offer',
  /** POST …/withdraw, POST …/escalate (consumer) */
  'withdraw',
  'escalate',
  /** POST …/settlement/confirm | dispute (consumer) */
  'confirm_settlement',
  'dispute_settlement',
  /** POST …/appeal (consumer), within the window, once */
  'appeal',
  /** PUT …/complainant (consumer), from escalation on */
  'add_case_details',
  /** POST …/attachments */
  'attach',
  /** POST …/accept | decline | transfer (office) */
  'accept_case',
  'decline',
  'transfer',
  /** POST …/extend (office): the running deadline, once per period */
  'extend',
  /** POST …/mediation (office) */
  'mediate',
  /** POST …/appeal/decision (another officer of the office, or an admin) */
  'decide_appeal',
] as const;
export type ViewerAction = (typeof VIEWER_ACTIONS)[number];

/** The row fields the rules read. */
export type ActionFacts = Pick<
  ComplaintRow,
  | 'status'
  | 'merchant_respond_by'
  | 'first_response_at'
  | 'pending_offer_id'
  | 'escalated_at'
  | 'closed_at'
  | 'extensions'
  | 'deadline_basis'
  | 'rule_set'
  | 'rule_limits'
  | 'decided_at'
  | 'decided_by'
  | 'appealed_at'
>;

const MESSAGE_ACTION: Record<ActorRole, TicketAction> = {
  consumer: 'consumer_message',
  merchant: 'merchant_message',
  regulator: 'regulator_message',
  admin: 'regulator_message',
  system: 'regulator_message',
};

/** True when `check` does not throw (the services' assert… functions). */
function passes(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

/** The deadline running in this status that has not been extended in its current period. */
function mayExtend(t: ActionFacts): boolean {
  const deadline = (Object.keys(EXTENDABLE_DEADLINES) as ExtendableDeadline[]).find(
    (d) => EXTENDABLE_DEADLINES[d] === t.status,
  );
  if (!deadline) return false;
  const from = t.deadline_basis?.[deadline]?.from;
  return !extensionUsed(t, deadline, typeof from === 'string' ? from : undefined);
}

/** The actions `viewer` may take on ticket `t` at `now`, in VIEWER_ACTIONS order. */
export function ticketActions(
  t: ActionFacts,
  viewer: Actor,
  now: Date,
  calendar?: WorkingDayCalendar,
): ViewerAction[] {
  const role: ActorRole = viewer.role;
  const can = (action: TicketAction) => isAllowed(t.status, action, role);
  const out = new Set<ViewerAction>();

  if (can(MESSAGE_ACTION[role])) out.add('message');
  if (can('make_offer')) out.add('offer');
  if (t.pending_offer_id && can('accept_offer')) out.add('accept_offer');
  if (t.pending_offer_id && can('reject_offer')) out.add('reject_offer');
  if (can('withdraw')) out.add('withdraw');
  // The predicate of assertConsumerMayEscalate: no error thrown and caught per view.
  if (can('escalate') && !consumerEscalationTooEarly(escalationFactsOf(t, now)))
    out.add('escalate');
  if (can('confirm_settlement')) out.add('confirm_settlement');
  if (can('dispute_settlement')) out.add('dispute_settlement');
  if (
    can('appeal') &&
    passes(() => assertMayAppeal(appealFactsOf(t), ticketAppealLimits(t), now, calendar))
  )
    out.add('appeal');
  if (role === 'consumer' && t.escalated_at) out.add('add_case_details');
  if (mayAttach(t.status)) out.add('attach');
  if (can('accept_case')) out.add('accept_case');
  if (can('decline')) out.add('decline');
  if (can('transfer')) out.add('transfer');
  if (can('extend_deadline') && mayExtend(t)) out.add('extend');
  if (can('record_mediation_agreement') || can('record_mediation_failure')) out.add('mediate');
  if (
    (can('uphold_appeal_of_decline') || can('uphold_appeal_of_mediation_failure')) &&
    passes(() => assertMayDecideAppeal(t.decided_by ?? null, viewer.sub))
  )
    out.add('decide_appeal');
  return VIEWER_ACTIONS.filter((a) => out.has(a));
}
