import { useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { ApiError, call, client } from '../api';
import { randomKey, useAsync } from '../hooks';
import { currencyDigits, parseAmount, useI18n } from '../i18n';
import { Link, useRouter } from '../router';
import {
  DemandFields,
  ErrorSummary,
  fieldErrors,
  InputField,
  SelectField,
  TextAreaField,
} from '../components/fields';
import { Card, DateTime, ErrorNotice, Facts, Loading, Money } from '../components/ui';
import { AMOUNT_TYPES, CATEGORIES } from '../types';
import type { Category, DemandType } from '../types';

const REFUNDS: DemandType[] = ['refund', 'partial_refund'];

/** The fields that can be wrong, in the form's order, and their controls' ids. */
const CHECKED = ['amount', 'description', 'phone'] as const;
const fieldId = (k: (typeof CHECKED)[number]) => `resolve-${k}`;

/** "Initiate resolution": a short form over the receipt's facts → POST /v1/complaints. */
export function NewComplaint({ receiptId }: { receiptId: string }) {
  const { t, label, money } = useI18n();
  const { navigate } = useRouter();
  const receipt = useAsync(
    (signal) =>
      call(client.GET('/v1/receipts/{receiptId}', { params: { path: { receiptId } }, signal })),
    [receiptId],
  );
  const [category, setCategory] = useState<Category>('quality');
  const [demandType, setDemandType] = useState<DemandType>('refund');
  // null until the person types: a refund then offers the amount paid (a full refund).
  const [amountInput, setAmount] = useState<string | null>(null);
  const [description, setDescription] = useState('');
  const [phone, setPhone] = useState('');
  const [errors, setErrors] = useState<Partial<Record<(typeof CHECKED)[number], string>>>({});
  const [submitError, setSubmitError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // One key per form: a double tap or a retry after a lost answer replays the same ticket.
  const idempotencyKey = useRef(randomKey());
  const formRef = useRef<HTMLFormElement>(null);

  if (receipt.loading) return <Loading />;
  if (receipt.error || !receipt.data) return <ErrorNotice error={receipt.error} />;
  const r = receipt.data;
  if (r.complaintId) {
    return (
      <Card title={t('resolve.exists')}>
        <Link to={`/tickets/${r.complaintId}`} className="btn btn-primary">
          {t('bills.viewResolution')}
        </Link>
      </Card>
    );
  }
  const needsAmount = AMOUNT_TYPES.includes(demandType);
  const paidText = (r.amountMinor / 10 ** currencyDigits(r.currency)).toFixed(
    currencyDigits(r.currency),
  );
  const amount = amountInput ?? (demandType === 'refund' ? paidText : '');
  const amountValue = parseAmount(amount, r.currency);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs: typeof errors = {};
    const desc = description.trim();
    if (desc.length < 10) errs.description = t('resolve.descTooShort');
    if (desc.length > 2000) errs.description = t('resolve.descTooLong');
    if (needsAmount) {
      if (amountValue === null || amountValue <= 0) errs.amount = t('resolve.amountInvalid');
      else if (REFUNDS.includes(demandType) && amountValue > r.amountMinor)
        errs.amount = t('resolve.amountTooHigh', { max: money(r.amountMinor, r.currency) });
    }
    const ph = phone.replace(/[\s-]/g, '');
    if (ph && !/^1[3-9]\d{9}$/.test(ph)) errs.phone = t('resolve.phoneInvalid');
    setErrors(errs);
    if (Object.keys(errs).length) {
      // Move focus to the first field that needs attention (after React marked it invalid).
      setTimeout(() =>
        formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(),
      );
      return;
    }
    setBusy(true);
    setSubmitError(null);
    try {
      const ticket = await call(
        client.POST('/v1/complaints', {
          body: {
            receiptId: r.id,
            category,
            demand:
              needsAmount && amountValue !== null
                ? { type: demandType, amountMinor: amountValue }
                : { type: demandType },
            description: desc,
            ...(ph ? { contactPhone: ph } : {}),
          },
          params: { header: { 'idempotency-key': idempotencyKey.current } },
        }),
      );
      navigate(`/tickets/${ticket.id}`, { replace: true });
    } catch (err) {
      if (
        err instanceof ApiError &&
        err.code === 'COMPLAINT_EXISTS' &&
        typeof err.problem.complaintId === 'string'
      ) {
        navigate(`/tickets/${err.problem.complaintId}`, { replace: true });
        return;
      }
      if (err instanceof ApiError) {
        const fe: typeof errors = {};
        for (const f of err.problem.errors ?? []) {
          if (f.field.startsWith('demand')) fe.amount = f.message;
          else if (f.field === 'contactPhone') fe.phone = f.message;
          else if (f.field === 'description') fe.description = f.message;
        }
        if (err.code === 'DEMAND_EXCEEDS_PAYMENT') fe.amount = err.message;
        setErrors(fe);
      }
      setSubmitError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="resolve">
      <p className="breadcrumb">
        <Link to="/bills">
          <span aria-hidden="true">← </span>
          {t('nav.bills')}
        </Link>
      </p>
      <h1>{t('resolve.title')}</h1>
      <Card title={t('resolve.order')} className="order-facts">
        <Facts
          items={[
            [t('order.subject'), r.subject],
            [t('order.amount'), <Money key="a" minor={r.amountMinor} currency={r.currency} />],
            [t('order.paidAt'), <DateTime key="p" iso={r.paidAt} />],
            [t('order.provider'), label('provider', r.provider)],
            [t('order.tradeNo'), <code key="n">{r.tradeNo}</code>],
          ]}
        />
        <p className="hint">{t('resolve.factsHint')}</p>
      </Card>
      <form
        ref={formRef}
        className="card stack"
        onSubmit={(e) => void submit(e)}
        noValidate
        aria-describedby="resolve-help"
      >
        <p id="resolve-help" className="hint">
          {t('resolve.help')}
        </p>
        <ErrorSummary errors={fieldErrors(errors, CHECKED, fieldId)} />
        <SelectField
          label={t('resolve.category')}
          value={category}
          options={CATEGORIES}
          optionLabel={(c) => label('category', c)}
          onChange={setCategory}
        />
        <DemandFields
          typeLabel={t('resolve.demand')}
          type={demandType}
          onType={setDemandType}
          amount={amount}
          onAmount={setAmount}
          amountId={fieldId('amount')}
          amountName="amount"
          currency={r.currency}
          hint={
            REFUNDS.includes(demandType)
              ? t('resolve.amountHint', { max: money(r.amountMinor, r.currency) })
              : t('resolve.compensationHint')
          }
          error={errors.amount}
        />
        <TextAreaField
          id={fieldId('description')}
          label={t('resolve.description')}
          hint={t('resolve.descHint', { n: description.trim().length })}
          error={errors.description}
          name="description"
          rows={5}
          maxLength={2000}
          value={description}
          onChange={setDescription}
          required
        />
        <InputField
          id={fieldId('phone')}
          label={t('resolve.phone')}
          hint={t('resolve.phoneHint')}
          error={errors.phone}
          name="phone"
          type="tel"
          inputMode="tel"
          autoComplete="tel"
          value={phone}
          onChange={setPhone}
        />
        <ErrorNotice error={submitError} />
        <button
          type="submit"
          className="btn btn-primary btn-block"
          disabled={busy}
          aria-busy={busy}
        >
          {t('resolve.submit')}
        </button>
      </form>
    </div>
  );
}
