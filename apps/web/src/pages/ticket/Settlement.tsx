import type { ReactNode } from 'react';
import { useI18n } from '../../i18n';
import { Card, Countdown, DateTime, Facts, Money } from '../../components/ui';
import type { Ticket, TrailEvent } from '../../types';

/**
 * The accepted offer being carried out: what was agreed, by when, the refunds Hejie has seen
 * (from the trail's refund_received events). `children`: what the viewer may do about it (the
 * consumer's confirm / dispute, ConsumerPanel).
 */
export function SettlementCard({
  ticket: tk,
  events,
  children,
}: {
  ticket: Ticket;
  events: TrailEvent[];
  children?: ReactNode;
}) {
  const { t, label, demand } = useI18n();
  const s = tk.settlement;
  if (!s) return null;
  const refunds = events.filter((e) => e.type === 'refund_received');
  const settling = tk.status === 'settling';
  return (
    <Card title={t('settlement.title')} className="settlement">
      <Facts
        items={[
          [
            t('settlement.offer'),
            <>
              {demand(s.type, s.amountMinor, tk.order.amountMinor)}
              {s.amountMinor !== null ? (
                <>
                  {' '}
                  <Money minor={s.amountMinor} currency={tk.order.currency} />
                </>
              ) : null}
            </>,
          ],
          [
            t('settlement.settleBy'),
            settling ? (
              <Countdown key="c" to={s.settleBy} />
            ) : (
              <DateTime key="d" iso={s.settleBy} />
            ),
          ],
          [
            t('settlement.refunded'),
            <Money key="r" minor={s.refundedMinor} currency={tk.order.currency} />,
          ],
          [t('settlement.via'), s.settledVia ? label('settledVia', s.settledVia) : null],
        ]}
      />
      {refunds.length ? (
        <ul className="refunds" data-testid="refunds">
          {refunds.map((e) => (
            <li key={e.seq}>
              <Money minor={Number(e.data.amountMinor)} currency={tk.order.currency} /> ·{' '}
              <DateTime iso={String(e.data.refundedAt ?? e.at)} />
            </li>
          ))}
        </ul>
      ) : settling ? (
        <p className="hint">{t('settlement.noRefundYet')}</p>
      ) : null}
      {children}
    </Card>
  );
}
