import type { ReactNode } from 'react';
import { useI18n } from '../../i18n';
import { Card, Countdown, DateTime, Money } from '../../components/ui';
import { AMOUNT_TYPES } from '../../types';
import type { Offer, Role, Ticket } from '../../types';

/**
 * The offer history (shared by every role). The role panels add what their role may do:
 * `answer` under the pending offer (the consumer's accept / reject), `form` below the list (the
 * merchant's new offer).
 */
export function Offers({
  role,
  ticket: tk,
  offers,
  answer,
  form,
  error,
}: {
  role: Role;
  ticket: Ticket;
  offers: Offer[];
  answer?: (offer: Offer) => ReactNode;
  form?: ReactNode;
  error?: ReactNode;
}) {
  const { t, label, demand } = useI18n();
  if (!offers.length && !form) return null;
  return (
    <Card title={t('offers.title')} className="offers">
      {offers.length === 0 ? <p className="muted">{t('offers.none')}</p> : null}
      <ol className="offer-list">
        {[...offers].reverse().map((o) => (
          <li key={o.id} className={`offer offer-${o.status}`} data-offer-status={o.status}>
            <div className="offer-main">
              <strong>{demand(o.type, o.amountMinor, tk.order.amountMinor)}</strong>
              {o.amountMinor !== null ? (
                <Money minor={o.amountMinor} currency={tk.order.currency} />
              ) : null}
              <span className={`badge offer-badge-${o.status}`}>
                {label('offerStatus', o.status)}
              </span>
            </div>
            {o.note ? <p className="quote">{o.note}</p> : null}
            {o.rejectReason ? (
              <p className="muted">
                {t('offers.rejectReason')}: <span className="quote">{o.rejectReason}</span>
              </p>
            ) : null}
            <p className="muted small">
              <DateTime iso={o.createdAt} />
            </p>
            {o.status === 'pending' && o.expiresAt ? (
              <p className="small" data-testid="offer-expiry">
                {t('offers.expires')} <Countdown to={o.expiresAt} />
                {role === 'consumer' ? (
                  <>
                    {' '}
                    ·{' '}
                    {AMOUNT_TYPES.includes(o.type)
                      ? t('offers.meansRefund')
                      : t('offers.meansOther')}
                  </>
                ) : null}
              </p>
            ) : null}
            {o.status === 'pending' && o.id === tk.pendingOfferId ? answer?.(o) : null}
          </li>
        ))}
      </ol>
      {form}
      {error}
    </Card>
  );
}
