import { useEffect, useId, useRef } from 'react';
import type { ReactNode } from 'react';
import { ApiError } from '../api';
import { useI18n } from '../i18n';
import { useNow } from '../hooks';
import type { TicketStatus } from '../types';

export function StatusBadge({ status }: { status: TicketStatus }) {
  const { label } = useI18n();
  return (
    <span className={`badge status-${status}`} data-status={status}>
      {label('status', status)}
    </span>
  );
}

/**
 * Time left until `to` (or how long ago it passed), ticking every second. Overdue and
 * "within 24 hours" are said in words as well as colour.
 */
export function Countdown({ to, label: prefix }: { to: string | null; label?: string }) {
  const { t, duration, dateTime } = useI18n();
  const now = useNow(1000);
  if (!to) return <span>—</span>;
  const left = new Date(to).getTime() - now;
  const state = left < 0 ? 'overdue' : left < 24 * 3600_000 ? 'soon' : 'ok';
  const text =
    left < 0
      ? t('countdown.overdue', { d: duration(-left) })
      : t('countdown.left', { d: duration(left) });
  return (
    <span className={`countdown countdown-${state}`} data-state={state} title={dateTime(to)}>
      {prefix ? <span className="countdown-label">{prefix} </span> : null}
      <time dateTime={to}>{text}</time>
    </span>
  );
}

export function Money({
  minor,
  currency,
}: {
  minor: number | null | undefined;
  currency?: string;
}) {
  const { money } = useI18n();
  return <span className="money">{money(minor, currency)}</span>;
}

export function DateTime({ iso }: { iso: string | null | undefined }) {
  const { dateTime } = useI18n();
  return iso ? <time dateTime={iso}>{dateTime(iso)}</time> : <span>—</span>;
}

/** An error from the API, read out by screen readers. */
export function ErrorNotice({ error }: { error: unknown }) {
  const { t, maybe } = useI18n();
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  const title =
    e?.status === 0 ? t('error.network') : (maybe('error', e?.code) ?? t('error.generic'));
  return (
    <div className="notice notice-error" role="alert">
      <strong>{title}</strong> <span>{e ? e.message : String(error)}</span>
      {e?.code ? <code className="code">{e.code}</code> : null}
    </div>
  );
}

export function Notice({
  children,
  kind = 'info',
}: {
  children: ReactNode;
  kind?: 'info' | 'success' | 'warn';
}) {
  return (
    <div className={`notice notice-${kind}`} role="status">
      {children}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="loading" role="status" aria-live="polite">
      {t('common.loading')}
    </p>
  );
}

/** A labelled form field; `children` is the control, given the id through a render prop. */
export function Field({
  id: givenId,
  label,
  hint,
  error,
  children,
}: {
  /** A fixed id for the control (an ErrorSummary links to it); else a generated one. */
  id?: string;
  label: string;
  hint?: string;
  error?: string;
  children: (props: {
    id: string;
    'aria-describedby'?: string;
    'aria-invalid'?: boolean;
  }) => ReactNode;
}) {
  const generated = useId();
  const id = givenId ?? generated;
  const hintId = hint ? `${id}-hint` : undefined;
  const errId = error ? `${id}-err` : undefined;
  const describedBy = [hintId, errId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-describedby': describedBy, 'aria-invalid': error ? true : undefined })}
      {hint ? (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={errId}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function Card({
  title,
  children,
  className,
  actions,
  headingLevel = 2,
}: {
  title?: ReactNode;
  children: ReactNode;
  className?: string;
  actions?: ReactNode;
  headingLevel?: 2 | 3;
}) {
  const H = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <section className={`card${className ? ` ${className}` : ''}`}>
      {title || actions ? (
        <div className="card-head">
          {title ? <H>{title}</H> : null}
          {actions}
        </div>
      ) : null}
      {children}
    </section>
  );
}

/** Definition list of facts: [label, value] pairs, empty values skipped. */
export function Facts({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {items
        .filter(([, v]) => v !== null && v !== undefined && v !== '')
        .map(([k, v]) => (
          <div key={k} className="fact">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}

/**
 * The second step of a final action: "Are you sure? …" with Confirm / Cancel, inline (not
 * window.confirm). It is a labelled group; focus moves to its Confirm button when it appears,
 * so a screen reader announces the question, and Escape or Cancel steps back.
 */
export function ConfirmStep({
  question,
  detail,
  confirmLabel,
  onConfirm,
  onCancel,
  busy,
  danger,
  testId,
}: {
  question: string;
  detail?: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
  danger?: boolean;
  testId?: string;
}) {
  const { t } = useI18n();
  const id = useId();
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    confirmRef.current?.focus();
  }, []);
  return (
    <div
      className="confirm-step"
      role="group"
      aria-labelledby={`${id}-q`}
      aria-describedby={detail ? `${id}-d` : undefined}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      <p id={`${id}-q`} className="confirm-question">
        {question}
      </p>
      {detail ? (
        <p id={`${id}-d`} className="hint">
          {detail}
        </p>
      ) : null}
      <div className="button-row">
        <button
          ref={confirmRef}
          type="button"
          className={`btn ${danger ? 'btn-danger' : 'btn-primary'}`}
          onClick={onConfirm}
          disabled={busy}
          data-testid={testId}
        >
          {confirmLabel}
        </button>
        <button type="button" className="btn btn-secondary" onClick={onCancel} disabled={busy}>
          {t('common.cancel')}
        </button>
      </div>
    </div>
  );
}

/** A rate: "12.5%", or a muted "no data" when there was nothing to divide by (null ≠ 0 %). */
export function Rate({ rate }: { rate: number | null | undefined }) {
  const { percent } = useI18n();
  return rate === null || rate === undefined ? (
    <span className="rate-none" data-rate="none">
      {percent(null)}
    </span>
  ) : (
    <span data-rate={rate}>{percent(rate)}</span>
  );
}

/** One count of a list page's summary: its words, and the tone it takes while it is not 0. */
export interface SummaryCount {
  n: number;
  text: string;
  tone?: 'danger' | 'warn';
}

/** The counts in a ticket list's page head ("12 open · 3 overdue · 1 due soon"). */
export function SummaryCounts({ counts }: { counts: SummaryCount[] }) {
  const { t, number } = useI18n();
  return (
    <ul className="summary" aria-label={t('inbox.summary')}>
      {counts.map(({ n, text, tone }) => (
        <li key={text} className={tone && n ? `summary-${tone}` : undefined}>
          <strong>{number(n)}</strong> {text}
        </li>
      ))}
    </ul>
  );
}
