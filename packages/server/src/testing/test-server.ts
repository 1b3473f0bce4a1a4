/** An in-process wharf-server for tests: in-memory store, tokens, watches, placement; requests via `app.inject`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteStore } from '@wharf/store';
import type { HostRegistration, SetView } from '@wharf/types';
import { buildApp } from '../app.js';
import { bootstrapTokens } from '../auth/tokens.js';
import { ensureDefaultTenant } from '../state/identity.js';
import { HostChanges } from '../state/host-changes.js';
import { PlacementController } from '../controllers/placement.js';
import type { App, ApiContext } from '../api/context.js';
import { startFakeAgent, type FakeAgent } from './fake-agent.js';

export interface TestServer {
  app: App;
  store: SqliteStore;
  placement: PlacementController;
  admin: string;
  join: string;
  /** Where the token files are. */
  dir: string;
  /** The fake agents asked for, in order, holding the join token; stop() closes them. */
  agents: FakeAgent[];
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Fake agents to start, by host name. */
  agents?: string[];
  /** What the routes get besides the store, the host changes and the join token. */
  context?: Pick<ApiContext, 'consoleDir' | 'customMetrics' | 'lb' | 'monitoring' | 'peers' | 'registry'>;
  /** Another test server whose store and tokens this one shares (as servers of one etcd do); it closes them. */
  shareWith?: TestServer;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const shared = opts.shareWith;
  const dir = shared?.dir ?? mkdtempSync(join(tmpdir(), 'wharf-server-test-'));
  const store = shared?.store ?? SqliteStore.open(':memory:');
  const log = pino({ level: 'silent' });
  const hostChanges = new HostChanges(store);
  const placement = new PlacementController(store, log, 50);
  const tokens = await bootstrapTokens(store, dir);
  await ensureDefaultTenant(store);
  await hostChanges.start();
  const app = await buildApp({ ...opts.context, store, hostChanges, joinToken: tokens.join }, log);
  await placement.start();
  const agents: FakeAgent[] = [];
  for (const name of opts.agents ?? []) agents.push(await startFakeAgent(name, tokens.join));
  return {
    app, store, placement, admin: tokens.admin, join: tokens.join, dir, agents,
    async stop() {
      placement.stop();
      hostChanges.stop();
      await app.close();
      for (const a of agents) await a.close();
      if (shared) return;
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** `inject` as the admin, with a JSON body when one is given. */
export function adminApi(t: TestServer) {
  return (method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH', url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: bearer(t.admin), ...(payload !== undefined ? { payload: payload as object } : {}) });
}

/** A host's registration, which is also its heartbeat, as its agent sends it. */
export function heartbeat(t: TestServer, reg: HostRegistration) {
  return t.app.inject({ method: 'PUT', url: `/v1/hosts/${reg.name}`, headers: bearer(t.join), payload: reg });
}

/** Polls the set (`APPKEY/ID`) until the placement controller has put it on a host, one other than `not` when given. */
export async function placedOn(t: TestServer, set: string, not?: string): Promise<SetView> {
  for (let i = 0; i < 300; i++) {
    const s = (await adminApi(t)('GET', `/v1/sets/${set}`)).json() as SetView;
    if (s.host && s.host !== not) return s;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${set} was not placed${not ? ` on a host other than ${not}` : ''}`);
}
