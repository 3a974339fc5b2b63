import { DomainError } from '@app/shared';
import type { DeadlineSpec } from '../calendar/deadlines';
import type { TicketRules } from './rules.service';

/** The deadlines an office may extend (POST /v1/complaints/:id/extend), with the status in which each runs. */
export const EXTENDABLE_DEADLINES = {
  acceptBy: 'escalated',
  mediationEndBy: 'mediating',
} as const;
export type ExtendableDeadline = keyof typeof EXTENDABLE_DEADLINES;

/** One extension as stored in `complaints.extensions` and shown on the ticket. */
export interface Extension {
  deadline: ExtendableDeadline;
  workdays: number;
  reason: string;
  at: string;
  by: { role: string; id: string };
  from: string;
  to: string;
}

/** acceptBy's limit under a set: clock hours (acceptHours) or working days, plus an extension. */
export function acceptSpec(rules: TicketRules, extraWorkdays = 0): DeadlineSpec {
  const { acceptHours, acceptWorkdays } = rules.limits;
  if (acceptHours !== undefined) {
    return { hours: acceptHours, workdays: extraWorkdays, ruleSet: rules.ruleSet };
  }
  return { workdays: (acceptWorkdays ?? 7) + extraWorkdays, ruleSet: rules.ruleSet };
}

/**
 * Was `deadline` already extended in its current period? Once per deadline period: a transfer (a
 * fresh acceptance period for the new office) or an overturned appeal starts the deadline anew
 * (`since`, its basis' start), and with it one more extension.
 */
export function extensionUsed(
  t: { extensions?: unknown },
  deadline: ExtendableDeadline,
  since?: string,
): boolean {
  const previous = Array.isArray(t.extensions) ? (t.extensions as Extension[]) : [];
  return previous.some((e) => e.deadline === deadline && (!since || e.at >= since));
}

/**
 * The rules of an extension, checked under the ticket's row lock: the deadline must be the one
 * running in the ticket's status (409 INVALID_TRANSITION), each deadline is extended once
 * (409 EXTENSION_USED), and by 1 to the set's maximum working days (400 VALIDATION_FAILED).
 */
export function extensionOf(
  t: { status: string; extensions?: unknown },
  deadline: ExtendableDeadline,
  workdays: number,
  rules: TicketRules,
  since?: string,
): void {
  if (EXTENDABLE_DEADLINES[deadline] !== t.status) {
    throw new DomainError(
      'INVALID_TRANSITION',
      `${deadline} runs only while a ticket is ${EXTENDABLE_DEADLINES[deadline]}; this one is ${t.status}`,
      { ticketStatus: t.status, deadline },
    );
  }
  if (extensionUsed(t, deadline, since)) {
    throw new DomainError('EXTENSION_USED', `${deadline} was already extended once`, { deadline });
  }
  const max = rules.limits.maxExtensionWorkdays;
  if (!Number.isSafeInteger(workdays) || workdays < 1 || workdays > max) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `workdays must be 1 to ${max} under rule set ${rules.ruleSet}`,
      {},
      [{ field: 'workdays', message: `must be an integer from 1 to ${max}` }],
    );
  }
}
