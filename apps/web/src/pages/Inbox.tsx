import { useMemo, useState } from 'react';
import { allPages, call, client } from '../api';
import { LoadMore, useLiveTickets } from '../components/live-tickets';
import { useAsync } from '../hooks';
import { useI18n } from '../i18n';
import { useSignedIn } from '../session';
import { TicketTable, urgency, useCommonColumns } from '../components/TicketTable';
import { Announcer, Filters, ListStatus, StatusFilter } from '../components/fields';
import { Field, SummaryCounts } from '../components/ui';
import { MERCHANT_PHASE } from '../types';
import type { Ticket, TicketStatus } from '../types';

/** The deadline that matters now: the first response, the resolution window, then settleBy. */
export function merchantDeadline(tk: Ticket): string | null {
  if (tk.status === 'awaiting_merchant') return tk.merchantRespondBy;
  if (tk.status === 'in_negotiation') return tk.resolveBy;
  if (tk.status === 'settling') return tk.settlement?.settleBy ?? null;
  return null;
}

function matches(tk: Ticket, status: TicketStatus | '') {
  return status ? tk.status === status : MERCHANT_PHASE.includes(tk.status);
}

/** Merchant staff: open tickets by deadline, live; filters by status and store. */
export function Inbox() {
  const session = useSignedIn();
  const merchantId = session.claims.merchantId!;
  const { t } = useI18n();
  const cols = useCommonColumns();
  const [status, setStatus] = useState<TicketStatus | ''>('');
  const [storeId, setStoreId] = useState('');
  // Said by the polite live region when a ticket arrives on the live feed.
  const [arrived, setArrived] = useState('');

  const merchant = useAsync(
    (signal) =>
      call(client.GET('/v1/merchants/{merchantId}', { params: { path: { merchantId } }, signal })),
    [merchantId],
  );
  const stores = useAsync(
    (signal) =>
      allPages(
        (cursor) =>
          call(
            client.GET('/v1/merchants/{merchantId}/stores', {
              params: { path: { merchantId }, query: { limit: 100, cursor } },
              signal,
            }),
          ),
        500,
      ),
    [merchantId],
  );
  const { list, fresh, cursor, loadMore } = useLiveTickets(
    status ? { status } : {},
    (tk) => matches(tk, status),
    {
      onArrive: (tk) =>
        setArrived(t('inbox.arrived', { number: tk.number, store: tk.order.storeName })),
    },
  );

  const shown = useMemo(() => {
    const items = (list.data ?? []).filter((tk) => !storeId || tk.storeId === storeId);
    // Most urgent first (as the API orders them), kept so as live tickets arrive.
    return [...items].sort((a, b) => a.merchantRespondBy.localeCompare(b.merchantRespondBy));
  }, [list.data, storeId]);
  const now = Date.now();
  const overdue = shown.filter((tk) => urgency(merchantDeadline(tk), now) === 'overdue').length;
  const soon = shown.filter((tk) => urgency(merchantDeadline(tk), now) === 'soon').length;

  return (
    <div className="inbox">
      <div className="page-head">
        <div>
          <h1>{t('inbox.title')}</h1>
          <p className="lead">{merchant.data?.name ?? ''}</p>
        </div>
        <SummaryCounts
          counts={[
            { n: shown.length, text: t('inbox.count') },
            { n: overdue, text: t('inbox.overdue'), tone: 'danger' },
            { n: soon, text: t('inbox.soon'), tone: 'warn' },
          ]}
        />
      </div>
      <Filters>
        <StatusFilter value={status} onChange={setStatus} allLabel={t('inbox.openOnly')} />
        <Field label={t('col.store')}>
          {(p) => (
            <select {...p} value={storeId} onChange={(e) => setStoreId(e.target.value)}>
              <option value="">{t('inbox.allStores')}</option>
              {(stores.data ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      </Filters>
      <ListStatus
        loading={list.loading}
        error={list.error}
        empty={shown.length === 0 ? t('inbox.empty') : null}
      />
      <Announcer message={arrived} testId="inbox-announcer" />
      {shown.length ? (
        <TicketTable
          caption={t('inbox.title')}
          tickets={shown}
          fresh={fresh}
          rowState={(tk, n) =>
            MERCHANT_PHASE.includes(tk.status) ? urgency(merchantDeadline(tk), n) : 'ok'
          }
          columns={[
            cols.countdown(t('col.deadline'), merchantDeadline),
            cols.status,
            cols.store,
            cols.demand,
            cols.amount,
            cols.created,
          ]}
        />
      ) : null}
      <LoadMore cursor={cursor} onLoad={loadMore} />
    </div>
  );
}
