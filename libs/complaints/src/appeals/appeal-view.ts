import type { ComplaintRow } from '../complaint.row';
import type { WorkingDayCalendar } from '../lifecycle/working-days';
import type { AppealView } from '../complaint.types';
import { APPEALABLE_STATUSES } from '../vocabulary';
import { appealWindowClosesAt, ticketAppealLimits } from './appeal-policy';

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/** The appeal fields of a ticket's view (complaint.row.ts ticketView). */
export function appealFields(
  row: ComplaintRow,
  now: Date,
  calendar?: WorkingDayCalendar,
): {
  appealableUntil: string | null;
  reviewBy: string | null;
  appealReviewOverdue: boolean;
  appeal: AppealView | null;
} {
  const decidedAt = row.decided_at ?? row.closed_at;
  let appealableUntil: string | null = null;
  if (APPEALABLE_STATUSES.includes(row.status) && !row.appealed_at && decidedAt) {
    const closes = appealWindowClosesAt(decidedAt, ticketAppealLimits(row), calendar);
    if (closes.getTime() >= now.getTime()) appealableUntil = closes.toISOString();
  }
  const reviewBy = row.review_by ?? null;
  return {
    appealableUntil,
    reviewBy: iso(reviewBy),
    appealReviewOverdue:
      row.status === 'appealed' && reviewBy !== null && reviewBy.getTime() < now.getTime(),
    appeal:
      row.appealed_at && row.review_by && row.appeal_from
        ? {
            from: row.appeal_from,
            reason: row.appeal_reason ?? '',
            appealedAt: row.appealed_at.toISOString(),
            reviewBy: row.review_by.toISOString(),
            outcome: row.appeal_outcome ?? null,
            note: row.appeal_note ?? null,
            decidedAt: iso(row.appeal_decided_at),
          }
        : null,
  };
}
