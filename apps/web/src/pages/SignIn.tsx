import { useEffect, useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { allPages, ApiError, call, client, withToken } from '../api';
import { useI18n } from '../i18n';
import { regionLabel } from '../region';
import { useRouter } from '../router';
import { useSession } from '../session';
import { Card, ErrorNotice, Field, Loading } from '../components/ui';
import type { Merchant, Office, Role } from '../types';

interface Identity {
  key: string;
  role: Role;
  sub: string;
  merchantId?: string;
  officeId?: string;
  name: string;
  detail?: string;
}

/** The demo payers seeded by scripts/seed-demo.ts. */
export const DEMO_CONSUMERS = ['alipay:2088000000000001', 'wechatpay:oDemoConsumer0001'];

type Demo =
  | { mode: 'checking' }
  | { mode: 'off' }
  | { mode: 'on'; merchants: Merchant[]; offices: Office[] }
  | { mode: 'error'; error: unknown };

export function SignIn() {
  const { t, label } = useI18n();
  const { signIn } = useSession();
  const { navigate } = useRouter();
  const [demo, setDemo] = useState<Demo>({ mode: 'checking' });
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [filter, setFilter] = useState('');
  const [pasted, setPasted] = useState('');
  const [pasteError, setPasteError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    (async () => {
      try {
        // Demo mode is when the API mints tokens (AUTH_DEV_LOGIN=true); it answers 404 otherwise.
        const { token } = await call(
          client.POST('/v1/auth/dev-token', {
            body: { role: 'admin', sub: 'demo-admin', expiresIn: '10m' },
            ...withToken(null),
          }),
        );
        const page = { limit: 100 };
        const [merchants, offices] = await Promise.all([
          allPages((cursor) =>
            call(
              client.GET('/v1/merchants', {
                params: { query: { ...page, cursor } },
                ...withToken(token),
              }),
            ),
          ),
          allPages((cursor) =>
            call(
              client.GET('/v1/offices', {
                params: { query: { ...page, cursor } },
                ...withToken(token),
              }),
            ),
          ),
        ]);
        if (live) setDemo({ mode: 'on', merchants, offices });
      } catch (e) {
        if (!live) return;
        if (e instanceof ApiError && e.status === 404) setDemo({ mode: 'off' });
        else setDemo({ mode: 'error', error: e });
      }
    })();
    return () => {
      live = false;
    };
  }, []);

  const groups = useMemo(() => {
    if (demo.mode !== 'on') return null;
    const consumers: Identity[] = DEMO_CONSUMERS.map((sub) => ({
      key: sub,
      role: 'consumer',
      sub,
      name: t('signin.payerOf', { provider: label('provider', sub.split(':')[0]) }),
      detail: sub,
    }));
    const staff: Identity[] = demo.merchants.map((m) => ({
      key: m.id,
      role: 'merchant',
      sub: `staff@${m.id}`,
      merchantId: m.id,
      name: m.name,
      detail: m.creditCode,
    }));
    const officers: Identity[] = demo.offices.map((o) => ({
      key: o.id,
      role: 'regulator',
      sub: `officer@${o.id}`,
      officeId: o.id,
      name: o.name,
      // "西湖区 330106": the district's name, and the code officers also know it by.
      detail: o.regionCodes.map((c, i) => regionLabel(c, o.regionNames?.[i])).join('、'),
    }));
    const admins: Identity[] = [
      { key: 'admin', role: 'admin', sub: 'demo-admin', name: t('signin.admin') },
    ];
    return { consumers, staff, officers, admins };
  }, [demo, label, t]);

  const choose = async (id: Identity) => {
    setBusy(id.key);
    setError(null);
    try {
      const { token } = await call(
        client.POST('/v1/auth/dev-token', {
          body: {
            role: id.role,
            sub: id.sub,
            ...(id.merchantId ? { merchantId: id.merchantId } : {}),
            ...(id.officeId ? { officeId: id.officeId } : {}),
          },
          ...withToken(null),
        }),
      );
      // Names of merchants and offices are kept for the header; others are worded per language.
      const keep = id.role === 'merchant' || id.role === 'regulator' ? id.name : undefined;
      if (signIn(token, keep)) navigate('/', { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const onPaste = (e: FormEvent) => {
    e.preventDefault();
    setPasteError(null);
    const s = signIn(pasted);
    if (!s) setPasteError(t('signin.badToken'));
    else navigate('/', { replace: true });
  };

  const q = filter.trim().toLowerCase();
  const visible = (items: Identity[]) =>
    q ? items.filter((i) => `${i.name} ${i.detail ?? ''}`.toLowerCase().includes(q)) : items;

  const list = (items: Identity[], testId: string) => (
    <ul className="identity-list" data-testid={testId}>
      {visible(items).map((id) => (
        <li key={id.key}>
          <button
            type="button"
            className="identity"
            onClick={() => void choose(id)}
            disabled={busy !== null}
            aria-busy={busy === id.key}
          >
            <span className="identity-name">{id.name}</span>
            {id.detail ? <span className="identity-detail">{id.detail}</span> : null}
          </button>
        </li>
      ))}
      {visible(items).length === 0 ? <li className="muted">{t('signin.noMatch')}</li> : null}
    </ul>
  );

  const pasteForm = (
    <form onSubmit={onPaste} className="stack">
      <Field label={t('signin.token')} hint={t('signin.tokenHint')} error={pasteError ?? undefined}>
        {(p) => (
          <textarea
            {...p}
            rows={3}
            value={pasted}
            onChange={(e) => setPasted(e.target.value)}
            spellCheck={false}
            autoComplete="off"
          />
        )}
      </Field>
      <div>
        <button type="submit" className="btn btn-primary" disabled={!pasted.trim()}>
          {t('signin.useToken')}
        </button>
      </div>
    </form>
  );

  return (
    <div className="signin">
      <h1>{t('signin.title')}</h1>
      <p className="lead">{t('signin.lead')}</p>
      {demo.mode === 'checking' ? <Loading /> : null}
      {demo.mode === 'error' ? <ErrorNotice error={demo.error} /> : null}
      <ErrorNotice error={error} />
      {groups ? (
        <>
          <p className="notice notice-warn">{t('signin.demo')}</p>
          <Card title={t('signin.consumers')}>{list(groups.consumers, 'consumers')}</Card>
          {groups.staff.length + groups.officers.length > 8 ? (
            <div className="field">
              <label htmlFor="identity-filter">{t('signin.filter')}</label>
              <input
                id="identity-filter"
                type="search"
                value={filter}
                onChange={(e) => setFilter(e.target.value)}
              />
            </div>
          ) : null}
          <Card title={t('signin.merchants')}>{list(groups.staff, 'merchants')}</Card>
          <Card title={t('signin.officers')}>{list(groups.officers, 'officers')}</Card>
          <Card title={t('signin.admins')}>{list(groups.admins, 'admins')}</Card>
          <details className="card">
            <summary>{t('signin.pasteInstead')}</summary>
            {pasteForm}
          </details>
        </>
      ) : demo.mode !== 'checking' ? (
        <Card title={t('signin.paste')}>{pasteForm}</Card>
      ) : null}
    </div>
  );
}
