import { createContext, useContext, useEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { useSession } from './session';
import type { TicketStreamEvent } from './types';

export type LiveState = 'off' | 'connecting' | 'live' | 'offline';

export type LiveMessage = { kind: 'ready' } | { kind: 'ticket'; event: TicketStreamEvent };
type Listener = (m: LiveMessage) => void;

interface LiveValue {
  state: LiveState;
  subscribe(fn: Listener): () => void;
}

const LiveContext = createContext<LiveValue | null>(null);

/**
 * One EventSource per signed-in tab on GET /v1/stream?token=… (EventSource cannot send an
 * Authorization header). The browser reconnects by itself after a network error; after each
 * (re)connection the server says `ready` and pages reload what they show.
 */
export function LiveProvider({ children }: { children: ReactNode }) {
  const { session } = useSession();
  const token = session?.token ?? null;
  const [state, setState] = useState<LiveState>('off');
  const listeners = useRef(new Set<Listener>());

  useEffect(() => {
    if (!token || typeof EventSource === 'undefined') {
      setState('off');
      return;
    }
    setState('connecting');
    const es = new EventSource(`/v1/stream?token=${encodeURIComponent(token)}`);
    const emit = (m: LiveMessage) => listeners.current.forEach((fn) => fn(m));
    es.addEventListener('ready', () => {
      setState('live');
      emit({ kind: 'ready' });
    });
    es.addEventListener('ticket', (e) => {
      try {
        emit({
          kind: 'ticket',
          event: JSON.parse((e as MessageEvent<string>).data) as TicketStreamEvent,
        });
      } catch {
        // a malformed event is dropped; the next `ready` reloads everything
      }
    });
    es.onerror = () => setState(es.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
    return () => es.close();
  }, [token]);

  const value = useMemo<LiveValue>(
    () => ({
      state,
      subscribe: (fn) => {
        listeners.current.add(fn);
        return () => listeners.current.delete(fn);
      },
    }),
    [state],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLiveState(): LiveState {
  return useContext(LiveContext)?.state ?? 'off';
}

/** Calls `fn` for each live message while the component is mounted (latest `fn` wins). */
export function useLive(fn: Listener): void {
  const ctx = useContext(LiveContext);
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!ctx) return;
    return ctx.subscribe((m) => ref.current(m));
  }, [ctx]);
}
