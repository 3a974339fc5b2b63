import { useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { call, client } from '../../api';
import { useAction } from '../../hooks';
import type { After } from '../../hooks';
import { useI18n } from '../../i18n';
import { AppealDecision } from '../../components/Appeal';
import {
  ErrorSummary,
  fieldErrors,
  SelectField,
  SubmitButton,
  TextAreaField,
  DisclosureButton,
} from '../../components/fields';
import { Card, ConfirmStep, ErrorNotice, Field } from '../../components/ui';
import { DECLINE_REASONS } from '../../types';
import type { DeclineReason, Office, Ticket } from '../../types';
import { ExtendDeadline } from './ExtendDeadline';

interface Props {
  ticket: Ticket;
  offices?: Map<string, Office>;
  after: After;
}

/**
 * The office's actions (regulators, and admins acting for an office): decide on an escalated
 * case, record the mediation's outcome, decide an appeal, extend the running deadline. Which
 * ones show is the server's answer (`ticket.actions`).
 */
export function RegulatorActions(props: Props) {
  const { ticket: tk, after } = props;
  let decision = null;
  if (tk.status === 'appealed') decision = <AppealDecision ticket={tk} after={after} />;
  else if ((['accept_case', 'decline', 'transfer'] as const).some((a) => tk.actions.includes(a)))
    decision = <DecideCase {...props} />;
  else if (tk.actions.includes('mediate')) decision = <Mediation {...props} />;
  return (
    <>
      {decision}
      <ExtendDeadline ticket={tk} after={after} />
    </>
  );
}

/** Accept (受理), decline (不予受理) with a reason, or transfer to a competent office. */
function DecideCase({ ticket: tk, offices, after }: Props) {
  const { t, label } = useI18n();
  const act = useAction();
  const [mode, setMode] = useState<'decline' | 'transfer' | null>(null);
  const [reason, setReason] = useState<DeclineReason>('outside_jurisdiction');
  const [detail, setDetail] = useState('');
  const [officeId, setOfficeId] = useState('');
  const others = useMemo(
    () => [...(offices?.values() ?? [])].filter((o) => o.id !== tk.officeId),
    [offices, tk.officeId],
  );
  const params = { path: { id: tk.id } };
  const accept = () =>
    void act.run(async () => {
      const r = await call(client.POST('/v1/complaints/{id}/accept', { params }));
      await after(r, t('flash.accepted'));
    });
  const submit = act.submit(async () => {
    if (mode === 'decline') {
      const r = await call(
        client.POST('/v1/complaints/{id}/decline', {
          params,
          body: { reason, ...(detail.trim() ? { detail: detail.trim() } : {}) },
        }),
      );
      await after(r, t('flash.declined'));
    } else if (mode === 'transfer') {
      const r = await call(
        client.POST('/v1/complaints/{id}/transfer', { params, body: { officeId } }),
      );
      await after(r, t('flash.transferred', { office: offices?.get(officeId)?.name ?? officeId }));
    }
    setMode(null);
  });
  const toggle = (m: 'decline' | 'transfer') => setMode(mode === m ? null : m);
  return (
    <Card title={t('reg.decide')} className="actions">
      <p className="hint">{t('reg.decideHint')}</p>
      <div className="button-row">
        {tk.actions.includes('accept_case') ? (
          <button
            type="button"
            className="btn btn-primary"
            onClick={accept}
            disabled={act.busy}
            data-testid="accept-case"
          >
            {t('reg.accept')}
          </button>
        ) : null}
        {(['decline', 'transfer'] as const).map((m) =>
          tk.actions.includes(m) ? (
            <DisclosureButton
              key={m}
              kind="secondary"
              open={mode === m}
              onToggle={() => toggle(m)}
              label={t(`reg.${m}`)}
            />
          ) : null,
        )}
      </div>
      {mode === 'decline' ? (
        <form className="stack" onSubmit={submit}>
          <SelectField
            label={t('reg.declineReason')}
            value={reason}
            options={DECLINE_REASONS}
            optionLabel={(r) => label('decline', r)}
            onChange={setReason}
          />
          <TextAreaField
            label={t('reg.declineDetail')}
            hint={reason === 'other' ? t('reg.detailRequired') : undefined}
            value={detail}
            onChange={setDetail}
            rows={3}
          />
          <SubmitButton
            kind="danger"
            label={t('reg.confirmDecline')}
            busy={act.busy}
            disabled={reason === 'other' && !detail.trim()}
          />
        </form>
      ) : null}
      {mode === 'transfer' ? (
        <form className="stack" onSubmit={submit}>
          <Field label={t('reg.transferTo')}>
            {(p) => (
              <select
                {...p}
                value={officeId}
                onChange={(e) => setOfficeId(e.target.value)}
                required
              >
                <option value="">{t('reg.chooseOffice')}</option>
                {others.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name} ({o.regionCodes.join(', ')})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <SubmitButton label={t('reg.confirmTransfer')} busy={act.busy} disabled={!officeId} />
        </form>
      ) : null}
      <ErrorNotice error={act.error} />
    </Card>
  );
}

const OUTCOME_ID = 'mediation-outcome-agreement';
const SETTLEMENT_ID = 'mediation-settlement';
type OutcomeErrors = { outcome?: string; settlement?: string };

/** The mediation's outcome: agreement (what was agreed) or failed, confirmed once more. */
function Mediation({ ticket: tk, after }: Props) {
  const { t, label } = useI18n();
  const act = useAction();
  // No outcome preselected: the officer chooses, then confirms once more.
  const [outcome, setOutcome] = useState<'agreement' | 'failed' | null>(null);
  const [errors, setErrors] = useState<OutcomeErrors>({});
  const [confirming, setConfirming] = useState(false);
  const [note, setNote] = useState('');
  const [settlement, setSettlement] = useState('');
  const outcomeErrId = 'mediation-outcome-err';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: OutcomeErrors = {};
    if (!outcome) errs.outcome = t('reg.outcomeRequired');
    else if (outcome === 'agreement' && !settlement.trim())
      errs.settlement = t('reg.settlementRequired');
    setErrors(errs);
    setConfirming(Object.keys(errs).length === 0);
  };
  const record = () =>
    void act.run(async () => {
      if (!outcome) return;
      const r = await call(
        client.POST('/v1/complaints/{id}/mediation', {
          params: { path: { id: tk.id } },
          body: {
            outcome,
            ...(note.trim() ? { note: note.trim() } : {}),
            ...(outcome === 'agreement' && settlement.trim()
              ? { settlement: settlement.trim() }
              : {}),
          },
        }),
      );
      setConfirming(false);
      await after(r, t('flash.mediation'));
    });
  const summary = fieldErrors(errors, ['outcome', 'settlement'], (k) =>
    k === 'outcome' ? OUTCOME_ID : SETTLEMENT_ID,
  );
  return (
    <Card title={t('reg.mediation')} className="actions">
      <form className="stack" onSubmit={submit} noValidate>
        <ErrorSummary errors={summary} />
        <fieldset
          className={`radio-group${errors.outcome ? ' field-invalid' : ''}`}
          aria-describedby={errors.outcome ? outcomeErrId : undefined}
        >
          <legend>{t('reg.outcome')}</legend>
          {(['agreement', 'failed'] as const).map((o) => (
            <label key={o} className="radio">
              <input
                type="radio"
                id={o === 'agreement' ? OUTCOME_ID : undefined}
                name="outcome"
                value={o}
                checked={outcome === o}
                aria-invalid={errors.outcome ? true : undefined}
                onChange={() => {
                  setOutcome(o);
                  setConfirming(false);
                  setErrors({});
                }}
              />
              {label('outcome', o)}
            </label>
          ))}
          {errors.outcome ? (
            <p className="field-error" id={outcomeErrId}>
              {errors.outcome}
            </p>
          ) : null}
        </fieldset>
        {outcome === 'agreement' ? (
          <Field id={SETTLEMENT_ID} label={t('reg.settlement')} error={errors.settlement}>
            {(p) => (
              <textarea
                {...p}
                name="settlement"
                rows={2}
                maxLength={2000}
                required
                aria-required="true"
                value={settlement}
                onChange={(e) => {
                  setSettlement(e.target.value);
                  setConfirming(false);
                }}
              />
            )}
          </Field>
        ) : null}
        <TextAreaField label={t('reg.note')} value={note} onChange={setNote} />
        {confirming && outcome ? (
          <ConfirmStep
            question={t('reg.outcomeSure', { outcome: label('outcome', outcome) })}
            confirmLabel={t('reg.confirmOutcome')}
            onConfirm={record}
            onCancel={() => setConfirming(false)}
            busy={act.busy}
            testId="confirm-outcome"
          />
        ) : (
          <SubmitButton label={t('reg.recordOutcome')} busy={act.busy} testId="record-outcome" />
        )}
      </form>
      <ErrorNotice error={act.error} />
    </Card>
  );
}
