/**
 * Data for pages: `useApi` runs a client call, keeps its last answer, and calls it
 * again every few seconds while the page is visible (live updates without a
 * manual refresh), until the object is gone (404). `useAction` wraps a change (a
 * button) with its busy and error state.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { WharfClient } from '@wharf/client';
import { WharfError } from '@wharf/types';
import { useSession } from './session.js';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload(): void;
}

export const REFRESH_MS = 2000;
/** For metrics and volume usage, which the hosts report every 5 to 10 s. */
export const SLOW_REFRESH_MS = 10_000;

export function useApi<T>(load: (c: WharfClient) => Promise<T>, deps: unknown[] = [], refreshMs: number | false = REFRESH_MS): Loaded<T> {
  const { client } = useSession();
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    // A new key (another set, another tenant): forget the old answer.
    setState({ loading: true });
  }, [client, ...deps]);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A refresh that fell due while the tab was hidden, run when it shows again.
    let due = false;
    const once = async () => {
      let gone = false;
      try {
        const data = await loadRef.current(client);
        if (live) setState({ data, loading: false });
      } catch (e) {
        // A 404 (deleted elsewhere, or a page left open on it) will not come back by asking again.
        gone = e instanceof WharfError && e.status === 404;
        if (live) setState((s) => ({ ...s, error: e as Error, loading: false }));
      }
      if (live && !gone && refreshMs !== false) timer = setTimeout(next, refreshMs);
    };
    const next = () => {
      due = document.hidden;
      if (!due) void once();
    };
    const shown = () => {
      if (due && !document.hidden) next();
    };
    document.addEventListener('visibilitychange', shown);
    void once();
    return () => {
      live = false;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', shown);
    };
  }, [client, tick, refreshMs, ...deps]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload } as Loaded<T>;
}

export interface Action {
  busy: boolean;
  error: Error | undefined;
  run(fn: () => Promise<unknown>): Promise<boolean>;
  clear(): void;
}

/** Busy and error state of a change; `run` answers whether it succeeded. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const run = useCallback(async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(e as Error);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(undefined) };
}
