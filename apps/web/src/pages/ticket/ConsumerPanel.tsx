import { useState } from 'react';
import { call, client } from '../../api';
import { useAction } from '../../hooks';
import type { After } from '../../hooks';
import { useI18n } from '../../i18n';
import { ConsumerAppeal } from '../../components/Appeal';
import { DisclosureButton, SubmitButton, TextAreaField } from '../../components/fields';
import { Card, ConfirmStep, Countdown, ErrorNotice, Notice } from '../../components/ui';
import type { Offer, Ticket } from '../../types';

/**
 * The consumer's actions on the ticket: escalate or withdraw during the negotiation, appeal a
 * decision. Which ones show is the server's answer (`ticket.actions`); the page re-derives no
 * rule. Escalation before the merchant's deadline shows disabled, with the time it opens.
 */
export function ConsumerActions({ ticket: tk, after }: { ticket: Ticket; after: After }) {
  const { t, dateTime } = useI18n();
  const [open, setOpen] = useState<'escalate' | 'withdraw' | null>(null);
  const [reason, setReason] = useState('');
  const act = useAction();
  if (tk.actions.includes('appeal') || tk.status === 'appealed')
    return <ConsumerAppeal ticket={tk} after={after} />;
  const mayEscalate = tk.actions.includes('escalate');
  const mayWithdraw = tk.actions.includes('withdraw');
  if (!mayEscalate && !mayWithdraw) return null;
  // Withdrawing is open but escalating is not yet: the merchant's time has not run out.
  const tooEarly = !mayEscalate;

  const submit = act.submit(async () => {
    const path = { path: { id: tk.id } };
    if (open === 'escalate') {
      const r = await call(
        client.POST('/v1/complaints/{id}/escalate', {
          params: path,
          body: { reason: reason.trim() },
        }),
      );
      await after(r, t('flash.escalated'));
    } else {
      const r = await call(
        client.POST('/v1/complaints/{id}/withdraw', {
          params: path,
          body: reason.trim() ? { reason: reason.trim() } : {},
        }),
      );
      await after(r, t('flash.withdrawn'));
    }
    setOpen(null);
    setReason('');
  });

  return (
    <Card title={t('actions.title')} className="actions">
      <div className="button-row">
        <button
          type="button"
          className="btn btn-danger"
          disabled={tooEarly || act.busy}
          aria-describedby={tooEarly ? 'escalate-why' : undefined}
          aria-expanded={open === 'escalate'}
          onClick={() => setOpen(open === 'escalate' ? null : 'escalate')}
          data-testid="escalate"
        >
          {t('actions.escalate')}
        </button>
        {mayWithdraw ? (
          <button
            type="button"
            className="btn btn-secondary"
            disabled={act.busy}
            aria-expanded={open === 'withdraw'}
            onClick={() => setOpen(open === 'withdraw' ? null : 'withdraw')}
          >
            {t('actions.withdraw')}
          </button>
        ) : null}
      </div>
      {tooEarly ? (
        <p id="escalate-why" className="hint escalate-why" data-testid="escalate-why">
          {t('actions.escalateTooEarly', { at: dateTime(tk.merchantRespondBy) })}{' '}
          <Countdown to={tk.merchantRespondBy} />
        </p>
      ) : (
        <p className="hint">{t('actions.escalateHint')}</p>
      )}
      {open ? (
        <form className="stack" onSubmit={submit}>
          {open === 'escalate' && tk.pendingOfferId ? (
            <div data-testid="escalate-cancels-offer">
              <Notice kind="warn">{t('actions.escalateCancelsOffer')}</Notice>
            </div>
          ) : null}
          <TextAreaField
            label={open === 'escalate' ? t('actions.escalateReason') : t('actions.withdrawReason')}
            value={reason}
            onChange={setReason}
            rows={3}
            required={open === 'escalate'}
          />
          <div className="button-row">
            <SubmitButton
              kind={open === 'escalate' ? 'danger' : 'primary'}
              label={
                open === 'escalate' ? t('actions.confirmEscalate') : t('actions.confirmWithdraw')
              }
              busy={act.busy}
              disabled={open === 'escalate' && !reason.trim()}
            />
            <button type="button" className="btn btn-ghost" onClick={() => setOpen(null)}>
              {t('common.cancel')}
            </button>
          </div>
        </form>
      ) : null}
      <ErrorNotice error={act.error} />
    </Card>
  );
}

/** Under the pending offer: accept (confirmed once more) or reject with a reason. */
export function OfferAnswer({
  ticket: tk,
  offer: o,
  after,
}: {
  ticket: Ticket;
  offer: Offer;
  after: After;
}) {
  const { t } = useI18n();
  const act = useAction();
  const [mode, setMode] = useState<'confirm' | 'reject' | null>(null);
  const [rejectReason, setRejectReason] = useState('');
  if (!tk.actions.includes('accept_offer') && !tk.actions.includes('reject_offer')) return null;
  const params = { path: { id: tk.id, offerId: o.id } };
  const accept = () =>
    void act.run(async () => {
      const r = await call(client.POST('/v1/complaints/{id}/offers/{offerId}/accept', { params }));
      await after(r, t('flash.offerAccepted'));
    });
  const reject = act.submit(async () => {
    const r = await call(
      client.POST('/v1/complaints/{id}/offers/{offerId}/reject', {
        params,
        body: rejectReason.trim() ? { reason: rejectReason.trim() } : {},
      }),
    );
    setMode(null);
    setRejectReason('');
    await after(r, t('flash.offerRejected'));
  });
  return (
    <div className="stack">
      <div className="button-row">
        {tk.actions.includes('accept_offer') ? (
          <DisclosureButton
            open={mode === 'confirm'}
            onToggle={() => setMode(mode === 'confirm' ? null : 'confirm')}
            disabled={act.busy}
            testId="accept-offer"
            label={t('offers.accept')}
          />
        ) : null}
        {tk.actions.includes('reject_offer') ? (
          <DisclosureButton
            kind="secondary"
            open={mode === 'reject'}
            onToggle={() => setMode(mode === 'reject' ? null : 'reject')}
            disabled={act.busy}
            label={t('offers.reject')}
          />
        ) : null}
      </div>
      {mode === 'confirm' ? (
        <ConfirmStep
          question={t('offers.acceptSure')}
          detail={t('offers.acceptFinal')}
          confirmLabel={t('offers.confirmAccept')}
          onConfirm={accept}
          onCancel={() => setMode(null)}
          busy={act.busy}
          testId="confirm-accept-offer"
        />
      ) : null}
      {mode === 'reject' ? (
        <form className="stack" onSubmit={reject}>
          <TextAreaField
            label={t('offers.rejectReasonLabel')}
            value={rejectReason}
            onChange={setRejectReason}
          />
          <SubmitButton kind="danger" label={t('offers.confirmReject')} busy={act.busy} />
        </form>
      ) : null}
      <ErrorNotice error={act.error} />
    </div>
  );
}

/** In the settlement card: confirm it arrived, or say it did not (escalates). */
export function SettlementAnswer({ ticket: tk, after }: { ticket: Ticket; after: After }) {
  const { t } = useI18n();
  const [disputing, setDisputing] = useState(false);
  const [reason, setReason] = useState('');
  const act = useAction();
  const mayConfirm = tk.actions.includes('confirm_settlement');
  const mayDispute = tk.actions.includes('dispute_settlement');
  if (!mayConfirm && !mayDispute) return null;
  const params = { path: { id: tk.id } };
  const confirm = () =>
    void act.run(async () => {
      const r = await call(
        client.POST('/v1/complaints/{id}/settlement/confirm', { params, body: {} }),
      );
      await after(r, t('flash.settled'));
    });
  const dispute = act.submit(async () => {
    const r = await call(
      client.POST('/v1/complaints/{id}/settlement/dispute', {
        params,
        body: { reason: reason.trim() },
      }),
    );
    await after(r, t('flash.escalated'));
    setDisputing(false);
  });
  return (
    <>
      <div className="button-row">
        {mayConfirm ? (
          <button
            type="button"
            className="btn btn-primary"
            disabled={act.busy}
            onClick={confirm}
            data-testid="settlement-confirm"
          >
            {t('settlement.confirm')}
          </button>
        ) : null}
        {mayDispute ? (
          <button
            type="button"
            className="btn"
            disabled={act.busy}
            aria-expanded={disputing}
            onClick={() => setDisputing(!disputing)}
            data-testid="settlement-dispute"
          >
            {t('settlement.notReceived')}
          </button>
        ) : null}
      </div>
      {disputing ? (
        <form onSubmit={dispute} className="stack">
          <TextAreaField
            label={t('settlement.disputeReason')}
            value={reason}
            onChange={setReason}
            required
          />
          <p className="hint">{t('settlement.disputeHint')}</p>
          <SubmitButton
            kind="danger"
            label={t('settlement.disputeSubmit')}
            busy={act.busy}
            disabled={!reason.trim()}
          />
        </form>
      ) : null}
      <ErrorNotice error={act.error} />
    </>
  );
}
