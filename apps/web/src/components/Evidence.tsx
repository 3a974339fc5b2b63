import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { call, client, saveBlob } from '../api';
import { useAsync } from '../hooks';
import { useI18n } from '../i18n';
import type { Attachment, Role, Ticket } from '../types';
import { Card, DateTime, ErrorNotice, Field, Loading, Notice } from './ui';
import { InputField, SubmitButton } from './fields';

/** An attachment's file (the stripped copy, or the uploader's party's original). */
const attachmentBlob = (id: string, attachmentId: string, original = false) =>
  call(
    client.GET('/v1/complaints/{id}/attachments/{attachmentId}', {
      params: { path: { id, attachmentId }, query: original ? { original: 'true' } : {} },
      parseAs: 'blob',
      headers: { accept: '*/*' },
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
          <InputField label={t('evidence.note')} maxLength={2000} value={note} onChange={setNote} />
          <SubmitButton
            label={t('evidence.upload')}
            busy={busy}
            disabled={!file}
            testId="evidence-upload"
          />
          {done ? <Notice kind="success">{t('evidence.uploaded')}</Notice> : null}
        </form>
      ) : null}
      <ErrorNotice error={error} />
    </Card>
  );
}
