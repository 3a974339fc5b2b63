import { useMemo, useState } from 'react';
import { call, client } from '../api';
import { LoadMore, useLiveTickets } from '../components/live-tickets';
import { useAsync } from '../hooks';
import { useI18n } from '../i18n';
import { useSignedIn } from '../session';
import { TicketTable, urgency, useCommonColumns } from '../components/TicketTable';
import { Filters, ListStatus, StatusFilter } from '../components/fields';
import { DateTime, SummaryCounts } from '../components/ui';
import { merchantDeadline } from './Inbox';
import { RuleSetBadge } from './ticket/Deadline';
import type { Ticket, TicketStatus } from '../types';

/**
 * The deadline that runs now: the acceptance decision, then the mediation limit (and, for
 * admins who see every ticket, the merchant's).
 */
function officeDeadline(tk: Ticket): string | null {
  if (tk.status === 'escalated') return tk.acceptBy;
  if (tk.status === 'mediating') return tk.mediationEndBy;
  if (tk.status === 'appealed') return tk.reviewBy;
  return merchantDeadline(tk);
}

/** The statuses whose running deadline is a regulator one, counted under the ticket's rule set. */
const REGULATOR_DEADLINE: readonly TicketStatus[] = ['escalated', 'mediating', 'appealed'];

/**
 * Admins: Bull Board (/admin/queues) opens with a server-side session: the token goes in the
 * Authorization header of POST /admin/queues/session (never in a URL), the answer sets an
 * HttpOnly cookie scoped to /admin/queues, then the board opens (the browser's Back returns).
 */
async function openJobQueues(): Promise<void> {
  await call(client.POST('/admin/queues/session'));
  window.location.assign('/admin/queues');
}

/** Regulators: the office's queue (admins: every ticket, or the unassigned ones). */
export function Queue() {
  const session = useSignedIn();
  const { role, officeId } = session.claims;
  const { t, label } = useI18n();
  const cols = useCommonColumns();
  const deadline = cols.countdown(t('col.officeDeadline'), officeDeadline);
  const [status, setStatus] = useState<TicketStatus | ''>('');
  const [unassigned, setUnassigned] = useState(false);

  const office = useAsync(
    (signal) =>
      officeId
        ? call(client.GET('/v1/offices/{officeId}', { params: { path: { officeId } }, signal }))
        : Promise.resolve(null),
    [officeId],
  );
  const { list, fresh, cursor, loadMore } = useLiveTickets(
    unassigned ? { unassigned: true } : status ? { status } : {},
    (tk) =>
      (!status || tk.status === status) &&
      (!unassigned || (tk.status === 'escalated' && tk.officeId === null)) &&
      (role === 'admin' || tk.officeId === officeId),
    {
      merge: (tk, known) => ({
        ...tk,
        serialComplainant: tk.serialComplainant ?? known?.serialComplainant,
      }),
    },
  );

  const shown = useMemo(() => list.data ?? [], [list.data]);
  const awaiting = shown.filter((tk) => tk.status === 'escalated').length;
  const overdue = shown.filter((tk) => tk.acceptanceOverdue).length;
  const mediating = shown.filter((tk) => tk.status === 'mediating').length;

  return (
    <div className="queue">
      <div className="page-head">
        <div>
          <h1>{role === 'admin' ? t('nav.allTickets') : t('queue.title')}</h1>
          <p className="lead">
            {office.data
              ? `${office.data.name} · ${(office.data.regionNames ?? office.data.regionCodes).join('、')}`
              : role === 'admin'
                ? t('queue.adminLead')
                : ''}
          </p>
        </div>
        <SummaryCounts
          counts={[
            { n: awaiting, text: t('queue.awaitingDecision') },
            { n: overdue, text: t('queue.acceptanceOverdue'), tone: 'danger' },
            { n: mediating, text: label('status', 'mediating') },
          ]}
        />
      </div>
      <Filters>
        <StatusFilter
          value={status}
          onChange={setStatus}
          allLabel={t('queue.allStatuses')}
          disabled={unassigned}
        />
        {role === 'admin' ? (
          <button
            type="button"
            className="btn btn-secondary"
            data-testid="job-queues"
            onClick={() => void openJobQueues().catch(() => undefined)}
          >
            {t('queue.jobs')}
          </button>
        ) : null}
        {role === 'admin' ? (
          <label className="checkbox">
            <input
              type="checkbox"
              checked={unassigned}
              onChange={(e) => setUnassigned(e.target.checked)}
            />
            {t('queue.unassigned')}
          </label>
        ) : null}
      </Filters>
      <ListStatus
        loading={list.loading}
        error={list.error}
        empty={shown.length === 0 ? t('queue.empty') : null}
      />
      {shown.length ? (
        <TicketTable
          caption={t('queue.title')}
          tickets={shown}
          fresh={fresh}
          rowState={(tk, now) =>
            tk.acceptanceOverdue || tk.appealReviewOverdue
              ? 'overdue'
              : urgency(officeDeadline(tk), now)
          }
          columns={[
            {
              ...deadline,
              // The rule set's name next to the deadline it sets (a ticket keeps its own set).
              cell: (tk) => (
                <>
                  {deadline.cell(tk)}
                  {REGULATOR_DEADLINE.includes(tk.status) ? (
                    <RuleSetBadge ruleSet={tk.ruleSet} />
                  ) : null}
                </>
              ),
            },
            {
              key: 'acceptBy',
              header: t('col.acceptBy'),
              cell: (tk) => (
                <>
                  <DateTime iso={tk.acceptBy} />
                  {tk.acceptanceOverdue ? (
                    <span className="badge badge-danger" data-testid="acceptance-overdue">
                      {t('queue.acceptanceOverdue')}
                    </span>
                  ) : null}
                </>
              ),
            },
            cols.status,
            cols.merchant,
            {
              key: 'escalation',
              header: t('col.escalation'),
              cell: (tk) => (
                <>
                  <span>{label('escalation', tk.escalationReason)}</span>
                  <span className="cell-sub">
                    <DateTime iso={tk.escalatedAt} />
                  </span>
                  {tk.serialComplainant ? (
                    <span className="badge badge-warn">{t('ticket.serial')}</span>
                  ) : null}
                </>
              ),
            },
            cols.demand,
          ]}
        />
      ) : null}
      <LoadMore cursor={cursor} onLoad={loadMore} />
    </div>
  );
}
