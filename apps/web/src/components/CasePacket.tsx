import { useState } from 'react';
import type { ComponentProps } from 'react';
import { call, client, saveBlob } from '../api';
import { useAction, useAsync } from '../hooks';
import { useI18n } from '../i18n';
import { DICT } from '../dict';
import type { DictKey } from '../dict';
import type { Ticket } from '../types';
import { Card, Countdown, ErrorNotice, Facts, Loading, Notice } from './ui';
import { InputField, SubmitButton } from './fields';

/** The complainant's details the case packet needs (PUT …/complainant). */
interface Complainant {
  realName: string;
  phone: string;
  address: string;
}

/** The complainant form's fields, in order: each one's label and its input's own checks. */
const COMPLAINANT_FIELDS: {
  key: keyof Complainant;
  label: DictKey;
  input: Omit<ComponentProps<typeof InputField>, 'label' | 'value' | 'onChange'>;
}[] = [
  { key: 'realName', label: 'packet.name', input: { maxLength: 100, autoComplete: 'name' } },
  {
    key: 'phone',
    label: 'packet.phone',
    input: { inputMode: 'tel', pattern: '1[3-9][0-9]{9}', autoComplete: 'tel' },
  },
  {
    key: 'address',
    label: 'packet.address',
    input: { minLength: 5, maxLength: 300, autoComplete: 'street-address' },
  },
];

/** The case packet as a PDF. */
const packetPdf = (id: string) =>
  call(
    client.GET('/v1/complaints/{id}/case-packet', {
      params: { path: { id } },
      parseAs: 'blob',
      headers: { accept: 'application/pdf' },
    }),
  ) as Promise<Blob>;

function missingWords(missing: string[], t: (k: DictKey) => string): string {
  return missing
    .map((f) => {
      const key = `packet.field.${f}`;
      return key in DICT ? t(key as DictKey) : f;
    })
    .join(', ');
}

/**
 * The consumer after escalation: which office has the case, its deadline in words, who reads
 * what, and the complainant form the office needs (never shown to the merchant).
 */
export function NextSteps({
  ticket: tk,
  onChange,
}: {
  ticket: Ticket;
  onChange: () => Promise<void>;
}) {
  const { t, dateTime } = useI18n();
  const [form, setForm] = useState<Complainant>({ realName: '', phone: '', address: '' });
  const act = useAction();
  const [saved, setSaved] = useState(false);
  if (!tk.actions.includes('add_case_details')) return null;
  const packet = tk.casePacket;
  const office = tk.officeName ?? t('trail.anOffice');
  const submit = act.submit(async () => {
    await call(
      client.PUT('/v1/complaints/{id}/complainant', {
        params: { path: { id: tk.id } },
        body: {
          realName: form.realName.trim(),
          phone: form.phone.trim(),
          address: form.address.trim(),
        },
      }),
    );
    setSaved(true);
    await onChange();
  });
  const set = (k: keyof Complainant) => (value: string) => setForm({ ...form, [k]: value });
  return (
    <Card title={t('next.title')} className="next-steps">
      <p data-testid="next-office">{t('next.office', { office })}</p>
      {tk.status === 'escalated' && tk.acceptBy ? (
        <p>
          {t('next.acceptBy', { at: dateTime(tk.acceptBy) })} <Countdown to={tk.acceptBy} />
        </p>
      ) : null}
      {tk.status === 'mediating' && tk.mediationEndBy ? (
        <p>{t('next.mediationEndBy', { at: dateTime(tk.mediationEndBy) })}</p>
      ) : null}
      <p className="muted">{t('next.readers')}</p>
      {packet && !packet.complete ? (
        <Notice kind="warn">
          {t('next.needs')} {t('packet.missing', { fields: missingWords(packet.missing, t) })}
        </Notice>
      ) : (
        <p>{t('next.given')}</p>
      )}
      <form onSubmit={submit} data-testid="complainant-form">
        {COMPLAINANT_FIELDS.map(({ key, label, input }) => (
          <InputField
            key={key}
            label={t(label)}
            required
            {...input}
            value={form[key]}
            onChange={set(key)}
          />
        ))}
        <SubmitButton label={t('next.save')} busy={act.busy} />
        {saved ? <Notice kind="success">{t('next.saved')}</Notice> : null}
      </form>
      <ErrorNotice error={act.error} />
    </Card>
  );
}

/** The office's view of the case packet, with print and PDF download. */
export function CasePacketCard({ ticket: tk }: { ticket: Ticket }) {
  const { t } = useI18n();
  const packet = useAsync(
    (signal) =>
      call(
        client.GET('/v1/complaints/{id}/case-packet', { params: { path: { id: tk.id } }, signal }),
      ),
    // Not on every change of the ticket: an officer's reading of the packet is itself an event
    // (which changes the ticket): re-read when the status moves, or on demand.
    [tk.id, tk.status],
  );
  const [error, setError] = useState<unknown>(null);
  const pdf = () =>
    packetPdf(tk.id)
      .then((b) => saveBlob(b, `case-packet-${tk.number}.pdf`))
      .catch(setError);
  const print = () =>
    packetPdf(tk.id)
      .then((b) => {
        const url = URL.createObjectURL(b);
        const w = window.open(url, '_blank');
        w?.addEventListener('load', () => w.print());
      })
      .catch(setError);
  if (!tk.escalatedAt) return null;
  const p = packet.data;
  return (
    <Card
      title={t('packet.title')}
      className="case-packet"
      actions={
        <div className="button-row">
          <button type="button" className="btn" onClick={() => void print()}>
            {t('packet.print')}
          </button>
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => void pdf()}
            data-testid="packet-pdf"
          >
            {t('packet.pdf')}
          </button>
        </div>
      }
    >
      {packet.loading ? <Loading /> : null}
      <ErrorNotice error={packet.error ?? error} />
      {p ? (
        <>
          {p.complete ? (
            <Notice kind="success">{t('packet.complete')}</Notice>
          ) : (
            <Notice kind="warn">
              {t('packet.missing', { fields: missingWords(p.missing, t) })}
            </Notice>
          )}
          <Facts
            items={[
              [
                t('packet.complainant'),
                p.complainant ? `${p.complainant.realName} · ${p.complainant.phone}` : null,
              ],
              [t('packet.address'), p.complainant?.address ?? null],
              [t('packet.respondent'), p.respondent.name],
              [t('packet.creditCode'), <code key="c">{p.respondent.creditCode}</code>],
              [
                t('packet.headHash'),
                <code key="h" title={p.trail.headHash ?? ''}>
                  {p.trail.headHash?.slice(0, 16)}…
                </code>,
              ],
            ]}
          />
        </>
      ) : null}
    </Card>
  );
}
