import { useState } from 'react';
import type { FormEvent } from 'react';
import { call, client } from '../../api';
import { useAction } from '../../hooks';
import type { After } from '../../hooks';
import { useI18n } from '../../i18n';
import { SubmitButton } from '../../components/fields';
import { Card, DateTime, ErrorNotice } from '../../components/ui';
import type { Role, Ticket, TrailEvent } from '../../types';

/** The messages between the parties; the composer while the server lists `message`. */
export function Thread({
  role,
  ticket: tk,
  messages,
  after,
}: {
  role: Role;
  ticket: Ticket;
  messages: TrailEvent[];
  after: After;
}) {
  const { t, label } = useI18n();
  const act = useAction();
  const [body, setBody] = useState('');
  const canWrite = tk.actions.includes('message');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const text = body.trim();
    if (!text) return;
    void act.run(async () => {
      await call(
        client.POST('/v1/complaints/{id}/messages', {
          params: { path: { id: tk.id } },
          body: { body: text },
        }),
      );
      setBody('');
      await after(null, t('flash.messageSent'));
    });
  };
  const mine = (roleOf: string) => roleOf === role || (role === 'admin' && roleOf === 'regulator');
  return (
    <Card title={t('thread.title')} className="thread">
      {messages.length === 0 ? <p className="muted">{t('thread.empty')}</p> : null}
      <ol className="messages" aria-live="polite">
        {messages.map((m) => (
          <li
            key={m.seq}
            className={`message ${mine(m.actor.role) ? 'message-mine' : ''} message-${m.actor.role}`}
          >
            <div className="message-meta">
              {label('actor', m.actor.role)} · <DateTime iso={m.at} />
            </div>
            <p className="message-body">{typeof m.data.body === 'string' ? m.data.body : ''}</p>
          </li>
        ))}
      </ol>
      {canWrite ? (
        <form className="composer" onSubmit={submit}>
          <label htmlFor="composer-body" className="visually-hidden">
            {t('thread.write')}
          </label>
          <textarea
            id="composer-body"
            rows={2}
            maxLength={4000}
            value={body}
            placeholder={t('thread.placeholder')}
            onChange={(e) => setBody(e.target.value)}
          />
          <SubmitButton label={t('thread.send')} busy={act.busy} disabled={!body.trim()} />
        </form>
      ) : null}
      <ErrorNotice error={act.error} />
    </Card>
  );
}
