import { useEffect, useRef } from 'react';
import type { InputHTMLAttributes, ReactNode } from 'react';
import { useI18n } from '../i18n';
import { AMOUNT_TYPES, DEMAND_TYPES, TICKET_STATUSES } from '../types';
import type { DemandType, TicketStatus } from '../types';
import { ErrorNotice, Field, Loading } from './ui';

/** One field's problem, for ErrorSummary: `id` is the control's id (Field's `id`). */
export interface FieldError {
  id: string;
  message: string;
}

/**
 * The form's problems at the top of the form, read out at once (role=alert), each a link that
 * moves focus to its field (the fields keep their own messages too).
 */
export function ErrorSummary({ errors }: { errors: FieldError[] }) {
  const { t } = useI18n();
  if (!errors.length) return null;
  return (
    <div className="notice notice-error error-summary" role="alert" data-testid="error-summary">
      <strong>{t('form.errorSummary')}</strong>
      <ul>
        {errors.map((e) => (
          <li key={e.id}>
            <a
              href={`#${e.id}`}
              onClick={(ev) => {
                ev.preventDefault();
                document.getElementById(e.id)?.focus();
              }}
            >
              {e.message}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The entries of `errors` that are set, in `order`, linked to `id(key)`. */
export function fieldErrors<K extends string>(
  errors: Partial<Record<K, string | undefined>>,
  order: readonly K[],
  id: (key: K) => string,
): FieldError[] {
  return order.flatMap((k) => {
    const message = errors[k];
    return message ? [{ id: id(k), message }] : [];
  });
}

/** A labelled select over a fixed list of values, each shown with `optionLabel`. */
export function SelectField<T extends string>({
  label,
  value,
  options,
  optionLabel,
  onChange,
  id,
}: {
  label: string;
  value: T;
  options: readonly T[];
  optionLabel: (value: T) => string;
  onChange: (value: T) => void;
  id?: string;
}) {
  return (
    <Field label={label} id={id}>
      {(p) => (
        <select {...p} value={value} onChange={(e) => onChange(e.target.value as T)}>
          {options.map((o) => (
            <option key={o} value={o}>
              {optionLabel(o)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/**
 * A demand's or an offer's type, and its amount when the type names one (AMOUNT_TYPES): the
 * consumer's demand (NewComplaint) and the merchant's offer (OfferForm).
 */
export function DemandFields({
  typeLabel,
  type,
  onType,
  amount,
  onAmount,
  amountId,
  amountName,
  currency,
  hint,
  error,
}: {
  typeLabel: string;
  type: DemandType;
  onType: (value: DemandType) => void;
  amount: string;
  onAmount: (value: string) => void;
  amountId: string;
  amountName: string;
  currency: string;
  hint: string;
  error?: string;
}) {
  const { t, label } = useI18n();
  return (
    <>
      <SelectField
        label={typeLabel}
        value={type}
        options={DEMAND_TYPES}
        optionLabel={(d) => label('demand', d)}
        onChange={onType}
      />
      {AMOUNT_TYPES.includes(type) ? (
        <InputField
          id={amountId}
          label={t('resolve.amount', { currency })}
          hint={hint}
          error={error}
          name={amountName}
          inputMode="decimal"
          value={amount}
          onChange={onAmount}
        />
      ) : null}
    </>
  );
}

/** The status filter of the ticket lists (inbox, queue): '' is the list's default view. */
export function StatusFilter({
  value,
  onChange,
  allLabel,
  disabled,
}: {
  value: TicketStatus | '';
  onChange: (value: TicketStatus | '') => void;
  allLabel: string;
  disabled?: boolean;
}) {
  const { t, label } = useI18n();
  return (
    <Field label={t('col.status')}>
      {(p) => (
        <select
          {...p}
          value={value}
          disabled={disabled}
          onChange={(e) => onChange(e.target.value as TicketStatus | '')}
        >
          <option value="">{allLabel}</option>
          {TICKET_STATUSES.map((s) => (
            <option key={s} value={s}>
              {label('status', s)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/**
 * A polite live region: says `message` once each time it changes (new tickets in a live list).
 * Visually hidden; the list shows the same change.
 */
export function Announcer({ message, testId }: { message: string; testId?: string }) {
  return (
    <p className="visually-hidden" role="status" aria-live="polite" data-testid={testId}>
      {message}
    </p>
  );
}

/** Focus moves to the returned ref's element whenever `key` changes (and is set). */
export function useFocusOn<T extends HTMLElement>(key: unknown) {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (key) ref.current?.focus();
  }, [key]);
  return ref;
}

/** A labelled multi-line text field (reasons, notes, details). */
export function TextAreaField({
  label,
  value,
  onChange,
  id,
  name,
  hint,
  error,
  rows = 2,
  maxLength = 2000,
  required,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  id?: string;
  name?: string;
  hint?: string;
  error?: string;
  rows?: number;
  maxLength?: number;
  required?: boolean;
}) {
  return (
    <Field label={label} id={id} hint={hint} error={error}>
      {(p) => (
        <textarea
          {...p}
          name={name}
          rows={rows}
          maxLength={maxLength}
          required={required}
          aria-required={required ? true : undefined}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

/**
 * A labelled one-line input (amounts, counts, phone, notes): Field's label, hint and error
 * around an `<input>` with the other attributes given.
 */
export function InputField({
  label,
  value,
  onChange,
  id,
  hint,
  error,
  ...input
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  id?: string;
  hint?: string;
  error?: string;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'id'>) {
  return (
    <Field label={label} id={id} hint={hint} error={error}>
      {(p) => <input {...p} {...input} value={value} onChange={(e) => onChange(e.target.value)} />}
    </Field>
  );
}

/** The filter bar above a ticket list (nothing to submit: each control applies at once). */
export function Filters({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  return (
    <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('common.filters')}>
      {children}
    </form>
  );
}

/** A list's state above it: loading, the API's error, or `empty` when it loaded with no item. */
export function ListStatus({
  loading,
  error,
  empty,
}: {
  loading: boolean;
  error: unknown;
  empty: string | null;
}) {
  return (
    <>
      {loading ? <Loading /> : null}
      <ErrorNotice error={error} />
      {!loading && empty ? <p className="empty">{empty}</p> : null}
    </>
  );
}

/** A button that opens and closes the form below it (aria-expanded says which). */
export function ToggleButton({
  open,
  onToggle,
  label,
  testId,
  kind = 'primary',
}: {
  open: boolean;
  onToggle: () => void;
  label: string;
  testId?: string;
  kind?: 'primary' | 'secondary';
}) {
  return (
    <div className="button-row">
      <DisclosureButton open={open} onToggle={onToggle} label={label} testId={testId} kind={kind} />
    </div>
  );
}

/** A button that opens and closes the form or confirmation below it (aria-expanded). */
export function DisclosureButton({
  open,
  onToggle,
  label,
  testId,
  kind = 'primary',
  disabled,
}: {
  open: boolean;
  onToggle: () => void;
  label: string;
  testId?: string;
  kind?: 'primary' | 'secondary';
  disabled?: boolean;
}) {
  return (
    <button
      type="button"
      className={`btn btn-${kind}`}
      aria-expanded={open}
      onClick={onToggle}
      disabled={disabled}
      data-testid={testId}
    >
      {label}
    </button>
  );
}

/** A form's submit button, disabled while its request runs (or `disabled`). */
export function SubmitButton({
  label,
  busy,
  disabled,
  testId,
  kind = 'primary',
}: {
  label: string;
  busy: boolean;
  disabled?: boolean;
  testId?: string;
  kind?: 'primary' | 'danger';
}) {
  return (
    <button
      type="submit"
      className={`btn btn-${kind}`}
      disabled={busy || disabled}
      data-testid={testId}
    >
      {label}
    </button>
  );
}
