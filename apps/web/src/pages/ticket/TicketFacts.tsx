import { useI18n } from '../../i18n';
import { regionLabel } from '../../region';
import { Card, DateTime, Facts, Money } from '../../components/ui';
import type { Role, Ticket } from '../../types';

/** What the consumer complained about and asked for (shared by every role). */
export function ComplaintFacts({ ticket: tk }: { ticket: Ticket }) {
  const { t, label, demand } = useI18n();
  return (
    <Card title={t('ticket.complaint')}>
      <Facts
        items={[
          [t('ticket.category'), label('category', tk.category)],
          [
            t('ticket.demand'),
            <>
              {demand(tk.demand.type, tk.demand.amountMinor, tk.order.amountMinor)}
              {tk.demand.amountMinor !== null ? (
                <>
                  {' '}
                  <Money minor={tk.demand.amountMinor} currency={tk.order.currency} />
                </>
              ) : null}
            </>,
          ],
          [t('ticket.phone'), tk.contactPhone],
          [
            t('ticket.escalationReason'),
            tk.escalationReason ? label('escalation', tk.escalationReason) : null,
          ],
          [t('ticket.declineReason'), tk.declineReason ? label('decline', tk.declineReason) : null],
          [t('ticket.declineDetail'), tk.declineDetail],
        ]}
      />
      <p className="description">{tk.description}</p>
    </Card>
  );
}

/** The order snapshot the ticket was opened on. */
export function OrderFacts({ ticket: tk, role }: { ticket: Ticket; role: Role }) {
  const { t, label } = useI18n();
  return (
    <Card title={t('ticket.order')} className="order-facts">
      <Facts
        items={[
          [t('order.merchant'), tk.order.merchantName],
          [t('order.store'), tk.order.storeName],
          [t('order.address'), tk.order.storeAddress],
          [t('order.subject'), tk.order.subject],
          [
            t('order.amount'),
            <Money key="a" minor={tk.order.amountMinor} currency={tk.order.currency} />,
          ],
          [t('order.paidAt'), <DateTime key="p" iso={tk.order.paidAt} />],
          [t('order.provider'), label('provider', tk.order.provider)],
          [t('order.tradeNo'), <code key="n">{tk.order.tradeNo}</code>],
          // Region codes are for offices and merchants; consumers read the office's name.
          [
            t('order.region'),
            role === 'consumer' ? null : regionLabel(tk.regionCode, tk.regionName),
          ],
        ]}
      />
    </Card>
  );
}
