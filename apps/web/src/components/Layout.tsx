import type { ReactNode } from 'react';
import { useI18n } from '../i18n';
import { useLiveState } from '../live';
import { Link, useRouter } from '../router';
import { useSession } from '../session';
import type { Session } from '../session';
import type { DictKey } from '../dict';
import type { Role } from '../types';

const NAV: Record<Role, [string, DictKey][]> = {
  consumer: [['/bills', 'nav.bills']],
  merchant: [
    ['/inbox', 'nav.inbox'],
    ['/stats', 'nav.merchantStats'],
  ],
  regulator: [
    ['/queue', 'nav.queue'],
    ['/stats', 'nav.stats'],
  ],
  admin: [
    ['/queue', 'nav.allTickets'],
    ['/stats', 'nav.stats'],
  ],
};

export function LangToggle() {
  const { lang, setLang, t } = useI18n();
  const next = lang === 'zh' ? 'en' : 'zh';
  return (
    <button
      type="button"
      className="btn btn-ghost lang-toggle"
      onClick={() => setLang(next)}
      title={t('lang.switch')}
      lang={next === 'zh' ? 'zh-CN' : 'en'}
    >
      {next === 'zh' ? '中文' : 'English'}
    </button>
  );
}

function LiveIndicator() {
  const state = useLiveState();
  const { t } = useI18n();
  if (state === 'off') return null;
  return (
    <span
      className={`live live-${state}`}
      data-live={state}
      title={t(`live.${state}Hint` as DictKey)}
    >
      <span className="live-dot" aria-hidden="true" />
      {t(`live.${state}` as DictKey)}
    </span>
  );
}

/** The signed-in identity in words: the merchant's or office's name, else by role. */
function whoName(
  session: Session,
  t: ReturnType<typeof useI18n>['t'],
  label: ReturnType<typeof useI18n>['label'],
): string {
  const { role, sub } = session.claims;
  if (session.label) return session.label;
  if (role === 'consumer' && sub.includes(':'))
    return t('signin.payerOf', { provider: label('provider', sub.split(':')[0]) });
  if (role === 'admin') return t('signin.admin');
  return sub;
}

export function Layout({ children, wide = false }: { children: ReactNode; wide?: boolean }) {
  const { session, signOut } = useSession();
  const { t, label } = useI18n();
  const { path, navigate } = useRouter();
  const role = session?.claims.role;
  return (
    <>
      <a className="skip-link" href="#main">
        {t('common.skip')}
      </a>
      <header className="topbar">
        <div className={`topbar-inner${wide ? ' wide' : ''}`}>
          {/* The visible words are the link's name (WCAG 2.5.3); "home" is added after them. */}
          <Link to="/" className="brand">
            <span className="brand-zh" lang="zh-CN">
              和解
            </span>
            <span className="brand-en" lang="en">
              Hejie
            </span>
            <span className="visually-hidden">{t('brand.homeSuffix')}</span>
          </Link>
          {role ? (
            <nav aria-label={t('nav.label')} className="nav">
              {NAV[role].map(([to, key]) => (
                <Link key={to} to={to} aria-current={path.startsWith(to) ? 'page' : undefined}>
                  {t(key)}
                </Link>
              ))}
            </nav>
          ) : null}
          <div className="topbar-tools">
            <LiveIndicator />
            <LangToggle />
            {session ? (
              <>
                <span className="who" title={session.claims.sub}>
                  <span className="who-role">{label('role', session.claims.role)}</span>
                  {role !== 'admin' ? (
                    <span className="who-name">{whoName(session, t, label)}</span>
                  ) : null}
                </span>
                <button
                  type="button"
                  className="btn btn-ghost"
                  onClick={() => {
                    signOut();
                    navigate('/', { replace: true });
                  }}
                >
                  {t('common.signOut')}
                </button>
              </>
            ) : null}
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1} className={wide ? 'wide' : undefined}>
        {children}
      </main>
    </>
  );
}
