/** An in-process wharf-server for tests: in-memory store, tokens, watches, placement; requests via `app.inject`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteStore } from '@wharf/store';
import { buildApp } from '../app.js';
import { bootstrapTokens } from '../auth/tokens.js';
import { HostChanges } from '../state/host-changes.js';
import { PlacementController } from '../controllers/placement.js';
import type { App } from '../api/context.js';

export interface TestServer {
  app: App;
  store: SqliteStore;
  placement: PlacementController;
  admin: string;
  join: string;
  /** Where the token files are. */
  dir: string;
  stop(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-server-test-'));
  const store = SqliteStore.open(':memory:');
  const log = pino({ level: 'silent' });
  const hostChanges = new HostChanges(store);
  const placement = new PlacementController(store, log, 50);
  const tokens = await bootstrapTokens(store, dir);
  await hostChanges.start();
  const app = await buildApp({ store, hostChanges, joinToken: tokens.join }, log);
  await placement.start();
  return {
    app, store, placement, admin: tokens.admin, join: tokens.join, dir,
    async stop() {
      placement.stop();
      hostChanges.stop();
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
