import { useEffect } from 'react';
import type { ReactNode } from 'react';
import { I18nProvider, useI18n } from './i18n';
import { LiveProvider } from './live';
import { RouterProvider, match, useRouter } from './router';
import { SessionProvider, useSession } from './session';
import { Layout } from './components/Layout';
import { SignIn } from './pages/SignIn';
import { Bills } from './pages/Bills';
import { NewComplaint } from './pages/NewComplaint';
import { TicketPage } from './pages/TicketPage';
import { Inbox } from './pages/Inbox';
import { Queue } from './pages/Queue';
import { Stats } from './pages/Stats';
import type { Role } from './types';

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
      {page ?? (
        <div className="card">
          <h1>{t('notFound.title')}</h1>
          <p>{t('notFound.body')}</p>
        </div>
      )}
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
