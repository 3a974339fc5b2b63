import type { ReactNode } from 'react';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { Countdown, DateTime, Money, StatusBadge } from './ui';
import { useNow } from '../hooks';
import type { Ticket } from '../types';

export interface Column {
  key: string;
  header: string;
  cell(t: Ticket): ReactNode;
  className?: string;
}

/** Urgency of a deadline: overdue, due within 24 h, or fine. */
export function urgency(at: string | null, now: number): 'overdue' | 'soon' | 'ok' {
  if (!at) return 'ok';
  const left = new Date(at).getTime() - now;
  return left < 0 ? 'overdue' : left < 24 * 3600_000 ? 'soon' : 'ok';
}

/**
 * A list of tickets as a table on wide screens and stacked cards on narrow ones (CSS); each
 * row's number links to the ticket, rows are marked by urgency in words and colour.
 */
export function TicketTable({
  tickets,
  columns,
  caption,
  rowState,
  fresh,
}: {
  tickets: Ticket[];
  columns: Column[];
  caption: string;
  rowState(t: Ticket, now: number): 'overdue' | 'soon' | 'ok';
  fresh?: Set<string>;
}) {
  const { t } = useI18n();
  const now = useNow(5000);
  return (
    <table className="tickets">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t('col.number')}</th>
          {columns.map((c) => (
            <th key={c.key} scope="col" className={c.className}>
              {c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {tickets.map((tk) => {
          const state = rowState(tk, now);
          return (
            <tr
              key={tk.id}
              className={`row-${state}${fresh?.has(tk.id) ? ' row-fresh' : ''}`}
              data-ticket={tk.id}
              data-number={tk.number}
              data-urgency={state}
            >
              <th scope="row" data-label={t('col.number')}>
                <Link to={`/tickets/${tk.id}`}>{tk.number}</Link>
                {fresh?.has(tk.id) ? (
                  <span className="badge badge-new">{t('inbox.new')}</span>
                ) : null}
                {state !== 'ok' ? (
                  <span className={`badge ${state === 'overdue' ? 'badge-danger' : 'badge-warn'}`}>
                    {t(state === 'overdue' ? 'inbox.overdue' : 'inbox.soon')}
                  </span>
                ) : null}
              </th>
              {columns.map((c) => (
                <td key={c.key} data-label={c.header} className={c.className}>
                  {c.cell(tk)}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function useCommonColumns() {
  const { t, label, demand } = useI18n();
  return {
    status: {
      key: 'status',
      header: t('col.status'),
      cell: (tk: Ticket) => <StatusBadge status={tk.status} />,
    },
    store: {
      key: 'store',
      header: t('col.store'),
      cell: (tk: Ticket) => (
        <>
          <span className="cell-strong">{tk.order.storeName}</span>
          <span className="cell-sub">{tk.order.subject}</span>
        </>
      ),
    },
    merchant: {
      key: 'merchant',
      header: t('col.merchant'),
      cell: (tk: Ticket) => (
        <>
          <span className="cell-strong">{tk.order.merchantName}</span>
          <span className="cell-sub">
            {tk.order.storeName} · {tk.regionName ?? tk.regionCode}
          </span>
        </>
      ),
    },
    demand: {
      key: 'demand',
      header: t('col.demand'),
      cell: (tk: Ticket) => (
        <>
          <span>{demand(tk.demand.type, tk.demand.amountMinor, tk.order.amountMinor)}</span>{' '}
          {tk.demand.amountMinor !== null ? (
            <Money minor={tk.demand.amountMinor} currency={tk.order.currency} />
          ) : null}
          <span className="cell-sub">{label('category', tk.category)}</span>
        </>
      ),
    },
    amount: {
      key: 'amount',
      header: t('col.amount'),
      className: 'num',
      cell: (tk: Ticket) => <Money minor={tk.order.amountMinor} currency={tk.order.currency} />,
    },
    created: {
      key: 'created',
      header: t('col.created'),
      cell: (tk: Ticket) => <DateTime iso={tk.createdAt} />,
    },
    countdown: (header: string, at: (tk: Ticket) => string | null) => ({
      key: 'deadline',
      header,
      cell: (tk: Ticket) => (
        <>
          <Countdown to={at(tk)} />
          <span className="cell-sub">
            <DateTime iso={at(tk)} />
          </span>
        </>
      ),
    }),
  };
}
