import { lazy, Suspense, useEffect, useRef } from 'react';
import type { ReactNode } from 'react';
import { I18nProvider, useI18n } from './i18n';
import { LiveProvider } from './live';
import { RouterProvider, match, useRouter } from './router';
import { SessionProvider, useSession } from './session';
import { Layout } from './components/Layout';
import { SignIn } from './pages/SignIn';
import type { DictKey } from './dict';
import type { Role } from './types';

// One chunk per page, loaded when its route is first visited: the sign-in page and a ticket
// deep link do not download the others, and Chart.js comes only with the statistics page.
const Bills = lazy(() => import('./pages/Bills').then((m) => ({ default: m.Bills })));
const NewComplaint = lazy(() =>
  import('./pages/NewComplaint').then((m) => ({ default: m.NewComplaint })),
);
const TicketPage = lazy(() =>
  import('./pages/TicketPage').then((m) => ({ default: m.TicketPage })),
);
const Inbox = lazy(() => import('./pages/Inbox').then((m) => ({ default: m.Inbox })));
const Queue = lazy(() => import('./pages/Queue').then((m) => ({ default: m.Queue })));
const Stats = lazy(() => import('./pages/Stats').then((m) => ({ default: m.Stats })));

/** The document title of a route, so a screen reader (and a tab strip) says where one is. */
function titleKey(path: string, role: Role | undefined): DictKey {
  if (!role) return 'title.signIn';
  if (path.startsWith('/tickets/')) return 'title.ticket';
  if (path.endsWith('/resolve')) return 'title.resolve';
  if (path === '/bills') return 'nav.bills';
  if (path === '/inbox') return 'nav.inbox';
  if (path === '/queue') return role === 'admin' ? 'nav.allTickets' : 'nav.queue';
  if (path === '/stats') return role === 'merchant' ? 'nav.merchantStats' : 'nav.stats';
  return 'notFound.title';
}

export const HOME: Record<Role, string> = {
  consumer: '/bills',
  merchant: '/inbox',
  regulator: '/queue',
  admin: '/queue',
};

function Routes() {
  const { session } = useSession();
  const { path, navigate } = useRouter();
  const { t } = useI18n();
  const role = session?.claims.role;

  useEffect(() => {
    if (!session && path !== '/') navigate('/', { replace: true });
    if (session && path === '/') navigate(HOME[session.claims.role], { replace: true });
  }, [session, path, navigate]);

  // Each route names itself and, after a navigation (not on the first load), moves focus to
  // the main region so keyboard and screen-reader users start reading at the new content.
  const first = useRef(true);
  useEffect(() => {
    document.title = `${t(titleKey(path, role))} · 和解 Hejie`;
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus();
  }, [path, role, t]);

  if (!session || !role) {
    return (
      <Layout>
        <SignIn />
      </Layout>
    );
  }

  let page: ReactNode = null;
  const wide = role !== 'consumer';
  let m: Record<string, string> | null;
  if (role === 'consumer' && path === '/bills') page = <Bills />;
  else if (role === 'consumer' && (m = match('/bills/:receiptId/resolve', path)))
    page = <NewComplaint receiptId={m.receiptId} />;
  else if ((m = match('/tickets/:id', path))) page = <TicketPage key={m.id} id={m.id} />;
  else if (role === 'merchant' && path === '/inbox') page = <Inbox />;
  else if ((role === 'regulator' || role === 'admin') && path === '/queue') page = <Queue />;
  else if (role !== 'consumer' && path === '/stats') page = <Stats />;

  return (
    <Layout wide={wide}>
      <Suspense
        fallback={
          <p className="muted" role="status">
            {t('common.loading')}
          </p>
        }
      >
        {page ?? (
          <div className="card">
            <h1>{t('notFound.title')}</h1>
            <p>{t('notFound.body')}</p>
          </div>
        )}
      </Suspense>
    </Layout>
  );
}

export function App() {
  return (
    <I18nProvider>
      <SessionProvider>
        <RouterProvider>
          <LiveProvider>
            <Routes />
          </LiveProvider>
        </RouterProvider>
      </SessionProvider>
    </I18nProvider>
  );
}
