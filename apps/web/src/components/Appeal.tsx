import { useState } from 'react';
import { call, client } from '../api';
import { useAction } from '../hooks';
import type { After } from '../hooks';
import { useI18n } from '../i18n';
import type { Ticket } from '../types';
import { SubmitButton, TextAreaField, ToggleButton } from './fields';
import { Card, Countdown, ErrorNotice } from './ui';

/** The consumer's Appeal button: on declined / mediation_failed while the window is open. */
export function ConsumerAppeal({ ticket: tk, after }: { ticket: Ticket; after: After }) {
  const { t, dateTime } = useI18n();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const act = useAction();
  if (tk.status === 'appealed' && tk.reviewBy) {
    return (
      <Card title={t('appeal.title')} className="actions">
        <p className="hint" data-testid="appeal-pending">
          {t('appeal.pending', { at: dateTime(tk.reviewBy) })}
        </p>
      </Card>
    );
  }
  if (!tk.actions.includes('appeal') || !tk.appealableUntil) return null;
  const submit = act.submit(async () => {
    const r = await call(
      client.POST('/v1/complaints/{id}/appeal', {
        params: { path: { id: tk.id } },
        body: { reason: reason.trim() },
      }),
    );
    await after(r, t('flash.appealed'));
    setOpen(false);
  });
  return (
    <Card title={t('appeal.title')} className="actions">
      <p className="hint">
        {t('appeal.hint', { at: dateTime(tk.appealableUntil) })}{' '}
        <Countdown to={tk.appealableUntil} />
      </p>
      <ToggleButton
        open={open}
        onToggle={() => setOpen(!open)}
        label={t('appeal.button')}
        testId="appeal"
      />
      {open ? (
        <form className="stack" onSubmit={submit}>
          <TextAreaField
            label={t('appeal.reason')}
            value={reason}
            onChange={setReason}
            rows={3}
            required
          />
          <SubmitButton label={t('appeal.confirm')} busy={act.busy} disabled={!reason.trim()} />
        </form>
      ) : null}
      <ErrorNotice error={act.error} />
    </Card>
  );
}

/** The regulator's (or admin's) decision form on an appealed ticket. */
export function AppealDecision({ ticket: tk, after }: { ticket: Ticket; after: After }) {
  const { t, label } = useI18n();
  const [outcome, setOutcome] = useState<'upheld' | 'overturned'>('upheld');
  const [note, setNote] = useState('');
  const act = useAction();
  const submit = act.submit(async () => {
    const r = await call(
      client.POST('/v1/complaints/{id}/appeal/decision', {
        params: { path: { id: tk.id } },
        body: { outcome, note: note.trim() },
      }),
    );
    await after(r, t('flash.appealDecided'));
  });
  if (!tk.actions.includes('decide_appeal')) {
    return (
      <Card title={t('appeal.decideTitle')} className="actions">
        {tk.appeal ? <p className="quote">{tk.appeal.reason}</p> : null}
        <p className="hint" data-testid="appeal-other-officer">
          {t('appeal.otherOfficer')}
        </p>
      </Card>
    );
  }
  return (
    <Card title={t('appeal.decideTitle')} className="actions">
      {tk.appeal ? <p className="quote">{tk.appeal.reason}</p> : null}
      <p className="hint">{t('appeal.decideHint')}</p>
      <form className="stack" onSubmit={submit}>
        <fieldset className="radio-group">
          <legend>{t('appeal.outcome')}</legend>
          {(['upheld', 'overturned'] as const).map((o) => (
            <label key={o} className="radio">
              <input
                type="radio"
                name="appeal-outcome"
                value={o}
                checked={outcome === o}
                onChange={() => setOutcome(o)}
              />
              {label('appealOutcome', o)}
            </label>
          ))}
        </fieldset>
        <TextAreaField label={t('appeal.note')} value={note} onChange={setNote} rows={3} required />
        <SubmitButton
          label={t('appeal.record')}
          busy={act.busy}
          disabled={!note.trim()}
          testId="appeal-decide"
        />
      </form>
      <ErrorNotice error={act.error} />
    </Card>
  );
}
