import { useState } from 'react';
import type { FormEvent } from 'react';
import { call, client } from '../../api';
import { useAction } from '../../hooks';
import type { After } from '../../hooks';
import { parseAmount, useI18n } from '../../i18n';
import { DemandFields, ErrorSummary, SubmitButton, TextAreaField } from '../../components/fields';
import { ErrorNotice } from '../../components/ui';
import { AMOUNT_TYPES } from '../../types';
import type { DemandType, Ticket } from '../../types';

const AMOUNT_ID = 'offer-amount';

/**
 * The merchant's offer form under the offer list, while the server lists `offer`: a structured
 * demand type, an amount for money offers, a note. A new offer supersedes the pending one.
 */
export function OfferForm({ ticket: tk, after }: { ticket: Ticket; after: After }) {
  const { t, money } = useI18n();
  const act = useAction();
  const [type, setType] = useState<DemandType>(tk.demand.type);
  const [amount, setAmount] = useState(
    tk.demand.amountMinor !== null ? (tk.demand.amountMinor / 100).toFixed(2) : '',
  );
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  if (!tk.actions.includes('offer')) return null;
  const needsAmount = AMOUNT_TYPES.includes(type);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const minor = needsAmount ? parseAmount(amount, tk.order.currency) : null;
    if (needsAmount && (minor === null || minor <= 0)) {
      setError(t('resolve.amountInvalid'));
      return;
    }
    setError(null);
    void act.run(async () => {
      await call(
        client.POST('/v1/complaints/{id}/offers', {
          params: { path: { id: tk.id } },
          body: {
            type,
            ...(needsAmount && minor !== null ? { amountMinor: minor } : {}),
            ...(note.trim() ? { note: note.trim() } : {}),
          },
        }),
      );
      setNote('');
      await after(null, t('flash.offerMade'));
    });
  };

  return (
    <form
      className="stack offer-form"
      onSubmit={submit}
      aria-labelledby="offer-form-title"
      noValidate
    >
      <h3 id="offer-form-title">{t('offers.make')}</h3>
      <ErrorSummary errors={error && needsAmount ? [{ id: AMOUNT_ID, message: error }] : []} />
      {tk.pendingOfferId ? <p className="hint">{t('offers.supersedes')}</p> : null}
      <DemandFields
        typeLabel={t('offers.type')}
        type={type}
        onType={setType}
        amount={amount}
        onAmount={setAmount}
        amountId={AMOUNT_ID}
        amountName="offer-amount"
        currency={tk.order.currency}
        hint={t('offers.paid', { amount: money(tk.order.amountMinor, tk.order.currency) })}
        error={error ?? undefined}
      />
      <TextAreaField label={t('offers.note')} value={note} onChange={setNote} name="offer-note" />
      <SubmitButton label={t('offers.send')} busy={act.busy} />
      <ErrorNotice error={act.error} />
    </form>
  );
}
