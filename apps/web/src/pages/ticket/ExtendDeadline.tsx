import { useState } from 'react';
import type { FormEvent } from 'react';
import { call, client } from '../../api';
import { useAction } from '../../hooks';
import type { After } from '../../hooks';
import { useI18n } from '../../i18n';
import {
  InputField,
  ErrorSummary,
  fieldErrors,
  SubmitButton,
  TextAreaField,
  ToggleButton,
} from '../../components/fields';
import { Card, ErrorNotice } from '../../components/ui';
import type { Ticket } from '../../types';

const FIELDS = ['workdays', 'reason'] as const;
type Errors = Partial<Record<(typeof FIELDS)[number], string>>;
const fieldId = (k: (typeof FIELDS)[number]) => `extend-${k}`;

/**
 * The office extends the deadline that runs now (acceptBy while escalated, mediationEndBy while
 * mediating), once, with a reason the consumer sees. Shown while the server lists `extend`.
 */
export function ExtendDeadline({ ticket: tk, after }: { ticket: Ticket; after: After }) {
  const { t } = useI18n();
  const act = useAction();
  const [open, setOpen] = useState(false);
  const [workdays, setWorkdays] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  if (!tk.actions.includes('extend')) return null;
  const deadline = tk.status === 'mediating' ? 'mediationEndBy' : 'acceptBy';

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const n = Number(workdays);
    const errs: Errors = {};
    if (!/^\d+$/.test(workdays.trim()) || n < 1) errs.workdays = t('reg.workdaysInvalid');
    if (reason.trim().length < 10) errs.reason = t('reg.extendReasonShort');
    setErrors(errs);
    if (Object.keys(errs).length) return;
    void act.run(async () => {
      const r = await call(
        client.POST('/v1/complaints/{id}/extend', {
          params: { path: { id: tk.id } },
          body: { deadline, workdays: n, reason: reason.trim() },
        }),
      );
      setOpen(false);
      await after(r, t('flash.extended'));
    });
  };

  return (
    <Card title={t('reg.extend')} className="actions">
      <p className="hint">{t('reg.extendHint')}</p>
      <ToggleButton
        open={open}
        onToggle={() => setOpen(!open)}
        label={t('reg.extend')}
        testId="extend"
        kind="secondary"
      />
      {open ? (
        <form className="stack" onSubmit={submit} noValidate>
          <ErrorSummary errors={fieldErrors(errors, FIELDS, fieldId)} />
          <InputField
            id={fieldId('workdays')}
            label={t('reg.extendWorkdays')}
            error={errors.workdays}
            name="workdays"
            inputMode="numeric"
            value={workdays}
            onChange={setWorkdays}
          />
          <TextAreaField
            id={fieldId('reason')}
            label={t('reg.extendReason')}
            value={reason}
            onChange={setReason}
            maxLength={500}
            error={errors.reason}
            required
          />
          <SubmitButton label={t('reg.confirmExtend')} busy={act.busy} testId="extend-submit" />
        </form>
      ) : null}
      <ErrorNotice error={act.error} />
    </Card>
  );
}
