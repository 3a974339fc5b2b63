import { useCallback, useEffect, useRef, useState } from 'react';
import type { DependencyList, FormEvent } from 'react';
import { ApiError } from './api';
import type { Ticket } from './types';

/** The current time, refreshed every `ms` (for countdowns). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

export interface Async<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload(): Promise<void>;
  setData(update: T | ((prev: T | undefined) => T | undefined)): void;
}

/** Loads `load()` now and whenever `deps` change; `reload()` refetches without a spinner. */
export function useAsync<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: DependencyList,
): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const loader = useRef(load);
  loader.current = load;
  const controller = useRef<AbortController | null>(null);

  const run = useCallback(async (spinner: boolean) => {
    controller.current?.abort();
    const c = new AbortController();
    controller.current = c;
    if (spinner) setLoading(true);
    try {
      const value = await loader.current(c.signal);
      if (!c.signal.aborted) {
        setData(value);
        setError(null);
      }
    } catch (e) {
      if (c.signal.aborted || (e as Error).name === 'AbortError') return;
      setError(e instanceof ApiError ? e : new ApiError({ status: 0, detail: String(e) }));
    } finally {
      if (!c.signal.aborted) setLoading(false);
    }
  }, []);

  useEffect(() => {
    void run(true);
    return () => controller.current?.abort();
  }, deps);

  const reload = useCallback(() => run(false), [run]);
  return { data, error, loading, reload, setData };
}

/** A random key for Idempotency-Key headers (one per form, so a double tap replays). */
export function randomKey(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** What a ticket action does after the API answered: refresh, announce. */
export type After = (result: Ticket | null, message: string) => Promise<void>;

/**
 * Runs an action, with a busy flag and the API's error kept for display; `submit(fn)` is a
 * form's onSubmit that runs `fn` as the action (the browser does not send the form itself).
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const submit = (fn: () => Promise<void>) => (e: FormEvent) => {
    e.preventDefault();
    void run(fn);
  };
  return { busy, error, run, submit };
}
