/**
 * The login session: the bearer token (kept in localStorage so a reload stays logged
 * in), the tenant the pages act in, the caller (`GET /v1/me`) and a WharfClient for
 * both. Pages read it with `useSession()`.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { WharfClient } from '@wharf/client';
import { DEFAULT_TENANT, WharfError, type Me } from '@wharf/types';

interface Stored {
  token: string;
  tenant: string;
}

const KEY = 'wharf.session';

function load(): Stored | undefined {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Stored | null;
    return v && typeof v.token === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

function save(s: Stored | undefined): void {
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
}

/** A client for this page's own server (the console is served by wharf-server). */
export function clientFor(token: string | undefined, tenant?: string): WharfClient {
  return new WharfClient({ server: window.location.origin, ...(token ? { token } : {}), ...(tenant ? { tenant } : {}) });
}

export interface Session {
  client: WharfClient;
  me: Me;
  tenant: string;
  /** Tenants the caller may switch to. */
  tenants: string[];
  setTenant(t: string): void;
  logout(): Promise<void>;
  /** May the caller change things (developer or more) in the current tenant? */
  canWrite: boolean;
  /** Tenant admin of the current tenant, or platform admin. */
  canAdmin: boolean;
}

const Ctx = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** Asks for a login until there is a valid token, then provides the session. */
export function SessionProvider({ login, children }: { login: (done: (token: string) => void) => ReactNode; children: ReactNode }) {
  const [stored, setStored] = useState<Stored | undefined>(load);
  const [me, setMe] = useState<Me | undefined>();
  const [tenants, setTenants] = useState<string[]>([]);
  // A failure other than a refused token (server down, 5xx) keeps the token and offers to try again.
  const [bootError, setBootError] = useState<string | undefined>();
  const [attempt, setAttempt] = useState(0);

  const update = useCallback((s: Stored | undefined) => {
    save(s);
    setStored(s);
  }, []);

  useEffect(() => {
    if (!stored) return;
    let live = true;
    const c = clientFor(stored.token);
    c.me()
      .then(async (m) => {
        const names = m.platformAdmin ? (await c.listTenants()).map((t) => t.name) : Object.keys(m.roles);
        if (!live) return;
        const list = names.length ? names : [DEFAULT_TENANT];
        setTenants(list);
        setMe(m);
        // A user without a role in the remembered tenant starts in their first one.
        if (!m.platformAdmin && !list.includes(stored.tenant)) update({ ...stored, tenant: list[0] as string });
      })
      .catch((err: unknown) => {
        if (!live) return;
        if (err instanceof WharfError && err.status === 401) update(undefined);
        else setBootError(err instanceof Error ? err.message : String(err));
      });
    return () => {
      live = false;
    };
  }, [stored?.token, attempt]);

  const value = useMemo<Session | undefined>(() => {
    if (!stored || !me) return undefined;
    const role = me.roles[stored.tenant];
    const canWrite = me.platformAdmin || role === 'developer' || role === 'tenant-admin';
    return {
      client: clientFor(stored.token, stored.tenant),
      me,
      tenant: stored.tenant,
      tenants,
      canWrite,
      canAdmin: me.platformAdmin || role === 'tenant-admin',
      setTenant: (t) => update({ ...stored, tenant: t }),
      logout: async () => {
        await clientFor(stored.token).logout().catch(() => undefined);
        setMe(undefined);
        update(undefined);
      },
    };
  }, [stored, me, tenants]);

  if (!stored) {
    return <>{login((token) => {
      update({ token, tenant: DEFAULT_TENANT });
    })}</>;
  }
  if (!value && bootError) {
    return (
      <div className="boot" role="alert">
        <p>Cannot load your session: {bootError}</p>
        <button type="button" onClick={() => { setBootError(undefined); setAttempt((n) => n + 1); }}>Try again</button>{' '}
        <button type="button" onClick={() => { setBootError(undefined); update(undefined); }}>Log in again</button>
      </div>
    );
  }
  if (!value) return <div className="boot">Loading…</div>;
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
