/**
 * The load-balancer controller: level-triggered like the others. Whenever an app,
 * a set or a status changes (and every few seconds), HAProxy gets one frontend per
 * app with `lb`, and each backend's slots are made equal to the app's endpoints
 * (all of them, with their ready and draining flags) through the runtime API.
 */
import type { Logger } from 'pino';
import type { Store } from '@wharf/store';
import type { AppObject } from '@wharf/types';
import { Keys } from '../state/keys.js';
import { readEndpoints } from '../state/endpoints.js';
import { PassRunner } from '../controllers/coalesce.js';
import { backendName, type LbFrontend } from './config.js';
import type { Haproxy } from './haproxy.js';
import { commandsFor, planBackend } from './plan.js';
import { isRuntimeError, parseServersState, type ServerState } from './runtime.js';

export interface LbControllerOptions {
  resyncMs?: number;
}

export class LbController {
  private readonly runner: PassRunner;
  /** Per backend: set id → slot. */
  private readonly assigned = new Map<string, Map<string, string>>();

  constructor(
    private readonly store: Store,
    readonly haproxy: Haproxy,
    private readonly log: Logger,
    private readonly opts: LbControllerOptions = {},
  ) {
    this.runner = new PassRunner(() => this.pass(), (err: unknown) => this.log.error({ err }, 'load-balancer pass failed'));
  }

  start(): Promise<void> {
    return this.runner.start(this.store, { prefixes: [Keys.appsPrefix, Keys.setsPrefix, Keys.statusPrefix], resyncMs: this.opts.resyncMs ?? 2000 });
  }

  async stop(): Promise<void> {
    this.runner.stop();
    await this.haproxy.stop();
  }

  async pass(): Promise<void> {
    const apps = (await this.store.list<AppObject>(Keys.appsPrefix)).items.map((kv) => kv.value);
    const frontends: LbFrontend[] = apps.filter((a) => a.spec.lb && !a.deleting).map((a) => ({ tenant: a.tenant, appkey: a.appkey, lb: a.spec.lb! }));
    if (frontends.length === 0 && !this.haproxy.running) return;
    await this.haproxy.apply(frontends);
    const state = parseServersState(await this.haproxy.command('show servers state'));
    const backends = new Set(frontends.map((f) => backendName(f.tenant, f.appkey)));
    for (const b of this.assigned.keys()) if (!backends.has(b)) this.assigned.delete(b);
    for (const f of frontends) await this.syncBackend(f, state);
  }

  private async syncBackend(f: LbFrontend, state: ServerState[]): Promise<void> {
    const backend = backendName(f.tenant, f.appkey);
    const current = state.filter((s) => s.backend === backend);
    const { endpoints } = await readEndpoints(this.store, f.tenant, f.appkey, { all: true }, false);
    let assigned = this.assigned.get(backend);
    if (!assigned) this.assigned.set(backend, (assigned = new Map()));
    const plan = planBackend(endpoints, f.lb.targetPort, current, assigned);
    if (endpoints.some((e) => e.ip && !assigned.has(e.set))) this.log.warn({ appkey: f.appkey, slots: current.length }, 'more sets than load-balancer slots (lb.maxSets)');
    for (const command of commandsFor(backend, current, plan)) {
      const answer = await this.haproxy.command(command);
      if (isRuntimeError(answer)) throw new Error(`haproxy: "${command}": ${answer.trim()}`);
      this.log.debug({ command }, 'haproxy runtime command');
    }
  }

  /** The backend of an app as HAProxy reports it, with the set each slot serves. */
  async describe(tenant: string, appkey: string): Promise<{ backend: string; slots: (ServerState & { set?: string })[] } | undefined> {
    if (!this.haproxy.running) return undefined;
    const backend = backendName(tenant, appkey);
    const sets = new Map([...(this.assigned.get(backend) ?? new Map<string, string>())].map(([set, server]) => [server, set]));
    const slots = parseServersState(await this.haproxy.command(`show servers state ${backend}`)).map((s) => ({ ...s, ...(sets.has(s.server) ? { set: sets.get(s.server) } : {}) }));
    return { backend, slots };
  }
}
