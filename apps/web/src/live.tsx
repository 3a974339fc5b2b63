import { createContext, useContext, useEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { call, client, withToken } from './api';
import { useSession } from './session';
import type { Async } from './hooks';
import type { StreamData, StreamEventName, Ticket, TicketStreamEvent } from './types';

export type LiveState = 'off' | 'connecting' | 'live' | 'offline';

export type LiveMessage =
  { kind: 'ready'; ready: StreamData<'ready'> } | { kind: 'ticket'; event: TicketStreamEvent };
type Listener = (m: LiveMessage) => void;

/**
 * Calls `fn` with each `event` of the stream, its JSON `data` typed from the API's document. A
 * malformed event is dropped: the next `ready` reloads everything.
 */
function listen<E extends StreamEventName>(
  es: EventSource,
  event: E,
  fn: (data: StreamData<E>) => void,
): void {
  es.addEventListener(event, (e) => {
    let data: StreamData<E>;
    try {
      data = JSON.parse((e as MessageEvent<string>).data) as StreamData<E>;
    } catch {
      return;
    }
    fn(data);
  });
}

interface LiveValue {
  state: LiveState;
  subscribe(fn: Listener): () => void;
}

const LiveContext = createContext<LiveValue | null>(null);

/**
 * One EventSource per signed-in tab on GET /v1/stream?ticket=…: EventSource cannot send an
 * Authorization header, and a JWT in a URL would end up in logs, so each (re)connection first
 * trades the token for a single-use ticket (POST /v1/stream/ticket, valid 60 s). A used ticket
 * cannot reopen the stream, so after an error this closes the EventSource and connects again
 * with a fresh ticket (1 s, 2 s, 4 s … up to 30 s apart). After each connection the server
 * says `ready` and pages reload what they show.
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
    let stopped = false;
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let failures = 0;
    const emit = (m: LiveMessage) => listeners.current.forEach((fn) => fn(m));
    const reconnect = () => {
      es?.close();
      es = null;
      if (stopped) return;
      setState(failures > 2 ? 'offline' : 'connecting');
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(failures, 5));
      failures++;
      retry = setTimeout(() => void connect(), delay);
    };
    const connect = async () => {
      setState('connecting');
      let ticket: string;
      try {
        ({ ticket } = await call(client.POST('/v1/stream/ticket', withToken(token))));
      } catch {
        return reconnect();
      }
      if (stopped) return;
      es = new EventSource(`/v1/stream?ticket=${encodeURIComponent(ticket)}`);
      listen(es, 'ready', (ready) => {
        failures = 0;
        setState('live');
        emit({ kind: 'ready', ready });
      });
      listen(es, 'ticket', (event) => emit({ kind: 'ticket', event }));
      es.onerror = reconnect;
    };
    void connect();
    return () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      es?.close();
    };
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

/**
 * Keeps a loaded ticket list current from the live feed: reloaded after each (re)connection
 * (`ready`: what changed while offline is not replayed), and each changed ticket folded in by
 * `apply` (the list as known, empty while nothing loaded).
 */
export function useLiveList(
  list: Pick<Async<Ticket[]>, 'reload' | 'setData'>,
  apply: (items: Ticket[], tk: Ticket) => Ticket[],
): void {
  useLive((m) => {
    if (m.kind === 'ready') {
      void list.reload();
      return;
    }
    const tk = m.event.ticket;
    list.setData((prev) => apply(prev ?? [], tk));
  });
}
