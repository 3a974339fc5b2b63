import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { call, client, saveBlob } from '../api';
import { useAsync } from '../hooks';
import { useI18n } from '../i18n';
import { DICT } from '../dict';
import type { DictKey } from '../dict';
import type { Attachment, Role, Ticket } from '../types';
import { Card, Countdown, DateTime, ErrorNotice, Facts, Field, Loading, Notice } from './ui';

interface Complainant {
  realName: string;
  phone: string;
  address: string;
}

/** An attachment's file (the stripped copy, or the uploader's party's original). */
const attachmentBlob = (id: string, attachmentId: string, original = false) =>
  call(
    client.GET('/v1/complaints/{id}/attachments/{attachmentId}', {
      params: { path: { id, attachmentId }, query: original ? { original: 'true' } : {} },
      parseAs: 'blob',
      headers: { accept: '*/*' },
    }),
  ) as Promise<Blob>;

/** The case packet as a PDF. */
const packetPdf = (id: string) =>
  call(
    client.GET('/v1/complaints/{id}/case-packet', {
      params: { path: { id } },
      parseAs: 'blob',
      headers: { accept: 'application/pdf' },
    }),
  ) as Promise<Blob>;

const isPhoto = (a: Attachment) => a.contentType.startsWith('image/');

/** A photo's thumbnail: fetched with the caller's token (an <img src> cannot send it). */
function Thumb({ ticketId, a }: { ticketId: string; a: Attachment }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!isPhoto(a)) return;
    let revoked = false;
    attachmentBlob(ticketId, a.id)
      // A data: URL (the page's CSP allows data: images, not blob:).
      .then(
        (b) =>
          new Promise<string>((ok, fail) => {
            const reader = new FileReader();
            reader.onload = () => ok(String(reader.result));
            reader.onerror = () => fail(reader.error);
            reader.readAsDataURL(b);
          }),
      )
      .then((dataUrl) => {
        if (!revoked) setUrl(dataUrl);
      })
      .catch(() => setUrl(null));
    return () => {
      revoked = true;
    };
  }, [ticketId, a]);
  if (!isPhoto(a)) {
    return (
      <span className="thumb thumb-file" aria-hidden="true">
        {a.contentType === 'application/pdf' ? 'PDF' : 'MP4'}
      </span>
    );
  }
  return url ? (
    <img className="thumb" src={url} alt={a.filename} width={72} height={72} />
  ) : (
    <span className="thumb" aria-hidden="true" />
  );
}

/** The evidence list with thumbnails and hashes, and the upload form (camera or files). */
export function EvidenceCard({
  ticket: tk,
  role,
  onChange,
}: {
  ticket: Ticket;
  role: Role;
  onChange: () => Promise<void>;
}) {
  const { t, label, number } = useI18n();
  const list = useAsync(
    (signal) =>
      call(
        client.GET('/v1/complaints/{id}/attachments', { params: { path: { id: tk.id } }, signal }),
      ).then((r) => r.items),
    [tk.id, tk.updatedAt],
  );
  const [file, setFile] = useState<File | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const mayUpload = tk.actions.includes('attach');
  const myParty = (r: string) =>
    r === role ||
    ((r === 'regulator' || r === 'admin') && (role === 'regulator' || role === 'admin'));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      const form = new FormData();
      if (note.trim()) form.append('note', note.trim());
      form.append('file', file, file.name);
      await call(
        client.POST('/v1/complaints/{id}/attachments', {
          params: { path: { id: tk.id } },
          // The FormData goes as it is (openapi-fetch leaves FormData to the browser).
          body: form as unknown as { file: string },
        }),
      );
      setFile(null);
      setNote('');
      setDone(true);
      (e.target as HTMLFormElement).reset();
      await list.reload();
      await onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const download = (a: Attachment, original: boolean) =>
    attachmentBlob(tk.id, a.id, original)
      .then((b) => saveBlob(b, a.filename))
      .catch(setError);

  return (
    <Card title={t('evidence.title')} className="evidence">
      {list.loading ? <Loading /> : null}
      <ErrorNotice error={list.error} />
      {list.data && !list.data.length ? <p className="muted">{t('evidence.none')}</p> : null}
      <ul className="evidence-list" data-testid="evidence-list">
        {(list.data ?? []).map((a) => (
          <li key={a.id} className="evidence-item" data-attachment={a.id}>
            <Thumb ticketId={tk.id} a={a} />
            <div className="evidence-meta">
              <strong>{a.filename}</strong>{' '}
              <span className="muted">
                {t('evidence.by', { who: label('actor', a.uploadedBy.role) })} ·{' '}
                <DateTime iso={a.at} /> · {number(Math.ceil(a.size / 1024))} KB
              </span>
              {a.note ? <p className="quote">{a.note}</p> : null}
              <p className="evidence-hash" title={a.sha256}>
                {t('evidence.sha')} <code>{a.sha256.slice(0, 16)}…</code>
                {a.metadataStripped ? (
                  <span className="badge">{t('evidence.stripped')}</span>
                ) : null}
              </p>
              <div className="button-row">
                <button type="button" className="btn" onClick={() => void download(a, false)}>
                  {t('evidence.download')}
                </button>
                {a.metadataStripped &&
                (role === 'regulator' || role === 'admin') &&
                !myParty(a.uploadedBy.role) ? (
                  <button type="button" className="btn" onClick={() => void download(a, true)}>
                    {t('evidence.original')}
                  </button>
                ) : null}
              </div>
            </div>
          </li>
        ))}
      </ul>
      {mayUpload ? (
        <form onSubmit={(e) => void submit(e)} className="evidence-form">
          <Field label={t('evidence.file')} hint={t('evidence.fileHint')}>
            {(p) => (
              <input
                {...p}
                type="file"
                name="file"
                accept="image/*,application/pdf,video/mp4"
                capture="environment"
                data-testid="evidence-file"
                onChange={(e) => setFile(e.target.files?.[0] ?? null)}
              />
            )}
          </Field>
          <Field label={t('evidence.note')}>
            {(p) => (
              <input
                {...p}
                maxLength={2000}
                value={note}
                onChange={(e) => setNote(e.target.value)}
              />
            )}
          </Field>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={!file || busy}
            data-testid="evidence-upload"
          >
            {t('evidence.upload')}
          </button>
          {done ? <Notice kind="success">{t('evidence.uploaded')}</Notice> : null}
        </form>
      ) : null}
      <ErrorNotice error={error} />
    </Card>
  );
}

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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  if (!tk.actions.includes('add_case_details')) return null;
  const packet = tk.casePacket;
  const office = tk.officeName ?? t('trail.anOffice');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
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
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const set = (k: keyof Complainant) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });
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
      <form onSubmit={(e) => void submit(e)} data-testid="complainant-form">
        <Field label={t('packet.name')}>
          {(p) => (
            <input
              {...p}
              required
              maxLength={100}
              value={form.realName}
              onChange={set('realName')}
              autoComplete="name"
            />
          )}
        </Field>
        <Field label={t('packet.phone')}>
          {(p) => (
            <input
              {...p}
              required
              inputMode="tel"
              pattern="1[3-9][0-9]{9}"
              value={form.phone}
              onChange={set('phone')}
              autoComplete="tel"
            />
          )}
        </Field>
        <Field label={t('packet.address')}>
          {(p) => (
            <input
              {...p}
              required
              minLength={5}
              maxLength={300}
              value={form.address}
              onChange={set('address')}
              autoComplete="street-address"
            />
          )}
        </Field>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {t('next.save')}
        </button>
        {saved ? <Notice kind="success">{t('next.saved')}</Notice> : null}
      </form>
      <ErrorNotice error={error} />
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
