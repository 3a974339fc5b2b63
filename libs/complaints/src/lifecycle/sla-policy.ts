import { DomainError } from '@app/shared';
import { type WorkingDayCalendar, addWorkingDays, chineseDaysCalendar } from './working-days';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface MerchantSlas {
  /** MERCHANT_RESPONSE_SLA (default 96h). */
  merchantResponseSlaMs: number;
  /** RESOLUTION_SLA (default 7d). */
  resolutionSlaMs: number;
}

export interface MerchantDeadlines {
  merchantRespondBy: Date;
  resolveBy: Date;
}

function assertPositiveMs(name: string, ms: number): void {
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${ms}`);
  }
}

function assertWorkdays(name: string, workdays: number): void {
  if (!Number.isSafeInteger(workdays) || workdays < 1) {
    throw new RangeError(
      `${name} must be a positive whole number of working days, got ${workdays}`,
    );
  }
}

/**
 * The merchant phase clocks (DESIGN.md): `merchantRespondBy` = created + 96h and `resolveBy` =
 * created + resolution window. Elapsed time, not working days: the 96 hours run through
 * weekends and holidays, as the consumer's wait does.
 */
export function computeMerchantDeadlines(createdAt: Date, slas: MerchantSlas): MerchantDeadlines {
  assertPositiveMs('merchantResponseSlaMs', slas.merchantResponseSlaMs);
  assertPositiveMs('resolutionSlaMs', slas.resolutionSlaMs);
  return {
    merchantRespondBy: new Date(createdAt.getTime() + slas.merchantResponseSlaMs),
    resolveBy: new Date(createdAt.getTime() + slas.resolutionSlaMs),
  };
}

/**
 * The end of the working day `workdays` working days after `from` (Asia/Shanghai; see
 * addWorkingDays for the counting rule and the fallback), `setting` named when invalid.
 */
const workdaysAfter =
  (setting: string) =>
  (
    from: Date,
    workdays: number,
    calendar: WorkingDayCalendar = chineseDaysCalendar(),
    onFallback?: (year: number) => void,
  ): Date => {
    assertWorkdays(setting, workdays);
    return addWorkingDays(from, workdays, { calendar, onFallback }).deadline;
  };

/**
 * `acceptBy` = escalated + REGULATOR_ACCEPT_WORKDAYS working days (the acceptance decision
 * limit of the national complaint-handling measures; configuration, never a constant, since the
 * measures were replaced in April 2026).
 */
export const computeAcceptBy = workdaysAfter('REGULATOR_ACCEPT_WORKDAYS');

/** `mediationEndBy` = accepted + MEDIATION_WORKDAYS working days (default 45). */
export const computeMediationEndBy = workdaysAfter('MEDIATION_WORKDAYS');

/**
 * API.md: a complaint must be made within COMPLAINT_WINDOW_DAYS of payment. Counted as elapsed
 * time (windowDays × 24h from `paidAt`), inclusive of its last millisecond. A `paidAt` slightly
 * after `now` (a provider's clock ahead of ours) is inside the window, not an error.
 */
export function assertWithinComplaintWindow(paidAt: Date, now: Date, windowDays: number): void {
  if (!Number.isSafeInteger(windowDays) || windowDays < 1) {
    throw new RangeError(
      `COMPLAINT_WINDOW_DAYS must be a positive whole number, got ${windowDays}`,
    );
  }
  const closesAt = new Date(paidAt.getTime() + windowDays * DAY_MS);
  if (now.getTime() > closesAt.getTime()) {
    throw new DomainError(
      'COMPLAINT_WINDOW_EXPIRED',
      `Complaints about this payment were possible for ${windowDays} days after ` +
        `${paidAt.toISOString()}, until ${closesAt.toISOString()}`,
      { paidAt: paidAt.toISOString(), closesAt: closesAt.toISOString(), windowDays },
    );
  }
}
