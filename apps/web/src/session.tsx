import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { setApiToken, setUnauthenticatedHandler } from './api';
import type { Role } from './types';

export interface Claims {
  sub: string;
  role: Role;
  merchantId?: string;
  officeId?: string;
  exp?: number;
}

export interface Session {
  token: string;
  claims: Claims;
  /** A label for the header (e.g. the merchant's name), chosen at sign-in. */
  label?: string;
}

const KEY = 'hejie.session';

/** The JWT's claims, read (not verified: the API verifies every request). */
export function decodeClaims(token: string): Claims | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(
      Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')))
        .map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
        .join(''),
    );
    const c = JSON.parse(json) as Partial<Claims>;
    if (
      typeof c.sub !== 'string' ||
      !['consumer', 'merchant', 'regulator', 'admin'].includes(String(c.role))
    )
      return null;
    return c as Claims;
  } catch {
    return null;
  }
}

function load(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null;
    if (!s?.token) return null;
    const claims = decodeClaims(s.token);
    if (!claims || (claims.exp && claims.exp * 1000 < Date.now())) return null;
    return { ...s, claims };
  } catch {
    return null;
  }
}

interface SessionContextValue {
  session: Session | null;
  signIn(token: string, label?: string): Session | null;
  signOut(): void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(() => {
    const s = load();
    setApiToken(s?.token ?? null);
    return s;
  });

  const signOut = useCallback(() => {
    localStorage.removeItem(KEY);
    setApiToken(null);
    setSession(null);
  }, []);

  const signIn = useCallback((token: string, label?: string) => {
    const claims = decodeClaims(token.trim());
    if (!claims) return null;
    const s: Session = { token: token.trim(), claims, label };
    localStorage.setItem(KEY, JSON.stringify({ token: s.token, label }));
    setApiToken(s.token);
    setSession(s);
    return s;
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(signOut);
    return () => setUnauthenticatedHandler(null);
  }, [signOut]);

  const value = useMemo(() => ({ session, signIn, signOut }), [session, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSession outside SessionProvider');
  return ctx;
}

/** The signed-in session; pages behind sign-in only. */
export function useSignedIn(): Session {
  const { session } = useSession();
  if (!session) throw new Error('not signed in');
  return session;
}
