import { useMemo, useState } from 'react';
import { allPages, call, client } from '../api';
import { useAsync } from '../hooks';
import { useI18n } from '../i18n';
import { useLiveList } from '../live';
import { Link, useRouter } from '../router';
import { DateTime, ErrorNotice, Loading, Money, StatusBadge } from '../components/ui';
import type { Receipt, Ticket } from '../types';

/** The consumer's bills, newest first, each with its resolution (if any) or the button to start one. */
export function Bills() {
  const { t, label } = useI18n();
  const { navigate } = useRouter();
  const [more, setMore] = useState<Receipt[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  const receipts = useAsync(async (signal) => {
    const page = await call(
      client.GET('/v1/receipts', { params: { query: { limit: 30 } }, signal }),
    );
    setMore([]);
    setCursor(page.nextCursor);
    return page.items;
  }, []);
  const tickets = useAsync(
    (signal) =>
      allPages(
        (cursor) =>
          call(client.GET('/v1/complaints', { params: { query: { limit: 100, cursor } }, signal })),
        500,
      ),
    [],
  );

  useLiveList(tickets, (list, tk) =>
    list.some((x) => x.id === tk.id) ? list.map((x) => (x.id === tk.id ? tk : x)) : [tk, ...list],
  );

  const byReceipt = useMemo(() => {
    const map = new Map<string, Ticket>();
    for (const tk of tickets.data ?? []) map.set(tk.receiptId, tk);
    return map;
  }, [tickets.data]);

  const loadMore = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await call(
        client.GET('/v1/receipts', { params: { query: { limit: 30, cursor } } }),
      );
      setMore((m) => [...m, ...page.items]);
      setCursor(page.nextCursor);
    } finally {
      setLoadingMore(false);
    }
  };

  const all = [...(receipts.data ?? []), ...more];

  return (
    <div className="bills">
      <h1>{t('bills.title')}</h1>
      <p className="lead">{t('bills.lead')}</p>
      {receipts.loading ? <Loading /> : null}
      <ErrorNotice error={receipts.error} />
      {!receipts.loading && all.length === 0 ? <p className="empty">{t('bills.empty')}</p> : null}
      <ul className="receipt-list">
        {all.map((r) => {
          const ticket = byReceipt.get(r.id) ?? null;
          const complaintId = r.complaintId ?? ticket?.id ?? null;
          const storeName = ticket?.order.storeName;
          const merchantName = ticket?.order.merchantName;
          return (
            <li key={r.id} className="receipt card" data-receipt={r.id}>
              <div className="receipt-main">
                <div className="receipt-who">
                  {merchantName || storeName ? (
                    <>
                      <strong className="receipt-merchant">{merchantName || storeName}</strong>
                      {merchantName && storeName ? (
                        <span className="receipt-store">{storeName}</span>
                      ) : null}
                    </>
                  ) : null}
                  <span
                    className={
                      merchantName || storeName ? 'receipt-subject' : 'receipt-subject strong'
                    }
                  >
                    {r.subject}
                  </span>
                  <span className="receipt-meta">
                    <span className={`provider provider-${r.provider}`}>
                      {label('provider', r.provider)}
                    </span>
                    <DateTime iso={r.paidAt} />
                  </span>
                </div>
                <div className="receipt-amount">
                  <Money minor={r.amountMinor} currency={r.currency} />
                  {r.refundedMinor ? (
                    <span className="receipt-refunded" data-testid="refunded">
                      {t('bills.refunded')} <Money minor={r.refundedMinor} currency={r.currency} />
                    </span>
                  ) : null}
                </div>
              </div>
              <div className="receipt-actions">
                {complaintId ? (
                  <>
                    {ticket ? <StatusBadge status={ticket.status} /> : null}
                    {ticket?.pendingOfferId || ticket?.status === 'settling' ? (
                      <span className="badge badge-warn" data-testid="action-required">
                        {t('bills.actionRequired')}
                      </span>
                    ) : null}
                    <Link to={`/tickets/${complaintId}`} className="btn btn-secondary">
                      {t('bills.viewResolution')}
                    </Link>
                  </>
                ) : r.merchantId ? (
                  <button
                    type="button"
                    className="btn btn-primary"
                    onClick={() => navigate(`/bills/${r.id}/resolve`)}
                    aria-label={t('bills.initiateFor', { subject: r.subject })}
                  >
                    {t('bills.initiate')}
                  </button>
                ) : (
                  <span className="muted">{t('bills.notEnrolled')}</span>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      {cursor ? (
        <button
          type="button"
          className="btn btn-secondary"
          onClick={() => void loadMore()}
          disabled={loadingMore}
        >
          {t('common.loadMore')}
        </button>
      ) : null}
    </div>
  );
}
