/**
 * Wires the agent together:
 *
 *   desired long-poll ─┐
 *   docker events ─────┤
 *   resync every 30 s ─┼─▶ per-set queue ─▶ reconciler (planner → Engine) ─▶ status reporter ─▶ server
 *   restart back-off ──┤                          │ running containers
 *   liveness failure ──┘                          ▼
 *                                              prober ── ready/healthy changed ──▶ status reporter
 *
 *   metrics collector (cgroups, /proc) ─▶ next heartbeat · GET /metrics · reporters (metrics/pipeline.ts)
 *
 *   desired long-poll ─▶ pre-pull ─▶ image puller ◀─ reconciler (one pull per image, mirrors, back-off)
 *   image GC (every --image-gc-interval) ─▶ unused platform images removed
 *
 * What runs is found by labels every time; the only memory of its own is each
 * container's restart record (health/book.ts) and each image's last use (images/usage-record.ts).
 */
import { mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import { WharfClient } from '@wharf/client';
import { firewallGroups, Labels, pinnedCa, setRef, type AddressGroups, type DesiredSets, type NetworkAttachment, type SetFirewall, type SetObject } from '@wharf/types';
import { atMost, backoffDelay } from './backoff.js';
import { DEFAULTS, parseListen, resolveConfig, type AgentConfig, type ResolvedConfig } from './config.js';
import type { SetIdentity } from './containers.js';
import { DockerodeEngine } from './docker/dockerode-engine.js';
import { HOST_REGISTRY_USER, RegistryAccess } from './docker/registry-access.js';
import type { Engine, EngineEvent } from './docker/engine.js';
import { ExitTracker } from './exits.js';
import { failureKind } from './failure-log.js';
import { HealthBook } from './health/book.js';
import { Prober, type LivenessFailure } from './health/prober.js';
import { createHttpServer } from './http.js';
import { desiredLoop } from './loops/desired.js';
import { NetworkPlane } from './network/plane.js';
import { dockerEventsLoop } from './loops/docker-events.js';
import { registerLoop } from './loops/register.js';
import { MetricsPipeline } from './metrics/pipeline.js';
import { resolvePrivilege } from './privilege.js';
import { KeyedQueue } from './queue.js';
import { SetReconciler, type ReconcileHooks, type ReconcileResult } from './reconciler.js';
import { StatusReporter } from './reporter.js';
import { createVolumeDriver } from './volumes/index.js';
import { VolumeManager } from './volumes/manager.js';
import { ImagePuller, type PullSubscriber } from './images/puller.js';
import { ImageGc } from './images/gc.js';
import { UsageRecord } from './images/usage-record.js';
import { tlsFetch } from './tls/fetch.js';
import { certifiesAddress, joinUntilDone, loadIdentity, type HostIdentity } from './tls/identity.js';
import { keepRenewed } from './tls/renewal.js';

export interface RunningAgent {
  /** Stops the loops and the HTTP API. Containers are left running. */
  stop(): Promise<void>;
  /** The agent API's actual address, e.g. http://127.0.0.1:40123 */
  url: string;
}

const EVENT_DEBOUNCE_MS = 50;
const MAX_SET_BACKOFF_MS = 10_000;

/**
 * How long the agent waits for a server's answer (long polls have their own). A server
 * that hangs (paused, overloaded) is passed over for the next one within this time, so
 * heartbeats keep arriving inside the server's 20 s grace and the host stays ready.
 */
const SERVER_REQUEST_TIMEOUT_MS = 12_000;
/** The networking parts of a desired-state answer. */
interface NetworkState {
  attachments: NetworkAttachment[];
  firewall: Record<string, SetFirewall>;
  addressGroups: AddressGroups;
}

/**
 * What decides a reconcile's outcome: when it changes, the set is reconciled (and a set
 * in back-off retried) at once. Besides the set itself: its IPs, the attachments of
 * their networks and its firewall rules, so firewall updates are applied within moments.
 * The members of the address groups the rules name are not in it: a new address in a
 * tenant rewrites its sets' firewalls (refreshFirewall), without reconciling them.
 */
function setKey(s: SetObject, net: NetworkState): string {
  const networks = new Set((s.ips ?? []).map((x) => x.network));
  const attachments = net.attachments.filter((a) => networks.has(a.name)).sort((a, b) => a.name.localeCompare(b.name));
  return JSON.stringify([s.generation, s.desired, s.standby ?? false, s.deleting ?? false, s.restartRequestedAt ?? null, s.spec, s.ips ?? null, attachments, net.firewall[setRef(s)] ?? null]);
}

/** The names of the groups added, removed or with other members in `next`. */
export function changedGroups(prev: AddressGroups, next: AddressGroups): Set<string> {
  const names = new Set<string>();
  for (const name of new Set([...Object.keys(prev), ...Object.keys(next)])) {
    const a = prev[name];
    const b = next[name];
    if (!a || !b || a.length !== b.length || a.some((x, i) => x !== b[i])) names.add(name);
  }
  return names;
}

function identity(s: SetObject): SetIdentity {
  return { tenant: s.tenant, appkey: s.appkey, id: s.id };
}

/** The images a set placed here runs (or will): its containers' and the infra image. */
function setImages(s: SetObject, infraImage: string): string[] {
  return [...new Set([infraImage, ...s.spec.containers.map((c) => c.image)])];
}

interface SetFailure {
  count: number;
  until: number;
  key: string;
}

class Agent {
  private readonly abort = new AbortController();
  private readonly client: WharfClient;
  private readonly reporter: StatusReporter;
  private readonly reconciler: SetReconciler;
  private readonly exits = new ExitTracker();
  private readonly queue: KeyedQueue;
  private desired = new Map<string, SetObject>();
  private net: NetworkState = { attachments: [], firewall: {}, addressGroups: {} };
  /** Sets whose firewall is rewritten because an address group it names changed: one at a time, beside the reconciles. */
  private readonly firewalls: KeyedQueue;
  private desiredReceived = false;
  /** Shim sync: one at a time; a request during one runs once more after it. */
  private shimSync: Promise<void> | undefined;
  private shimAgain = false;
  private readonly forceReport = new Set<string>();
  private readonly failures = new Map<string, SetFailure>();
  /** The last warning of a set's current failure streak: a retry that fails the same way adds no event. */
  private readonly lastWarning = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly book: HealthBook;
  private readonly prober: Prober;
  private readonly images: ImagePuller;
  private readonly imageGc: ImageGc;
  /** Sets reported at least once since the agent started. */
  private readonly reported = new Set<string>();
  /**
   * Sets whose first report waits for the first probe results of containers that ran
   * before the agent started (so their readiness does not flap); the latest status meanwhile.
   */
  private readonly held = new Map<string, ReconcileResult['report']>();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly config: ResolvedConfig,
    private readonly engine: Engine,
    private readonly log: Logger,
    private readonly advertise: string,
    private readonly network: NetworkPlane,
    private readonly bandwidth: number,
    private readonly volumes: VolumeManager,
    private readonly metrics: MetricsPipeline,
    registry: Pick<RegistryAccess, 'mirrorFor' | 'fromPlatform'>,
    client: WharfClient,
    /** Host certificates the server says are revoked, kept as each desired-state answer has them; the API refuses them. */
    private readonly revokedCertificates: Set<string> = new Set(),
  ) {
    this.client = client;
    this.reporter = new StatusReporter((report) => this.client.reportStatus(config.name, report), log);
    const infraPrivilege = resolvePrivilege(config.infraPrivileged);
    if (!infraPrivilege.privileged && config.infraPrivileged === 'auto') {
      log.warn({ missing: infraPrivilege.capDrop }, 'this host lacks capabilities Docker needs for privileged containers: infra containers get all the others instead');
    }
    this.book = new HealthBook(config.dataDir, log);
    this.prober = new Prober({ engine, log, onChange: (ref) => this.onHealthChange(ref), onLivenessFailure: (ref, f) => this.onLivenessFailure(ref, f) });
    this.images = new ImagePuller({ engine, log, concurrency: config.pullConcurrency, mirrorFor: registry.mirrorFor });
    this.imageGc = new ImageGc({
      engine, log, record: UsageRecord.in(config.dataDir), unusedForMs: config.imageGcAfterSeconds * 1000, removable: registry.fromPlatform,
      wanted: () => this.wantedImages(), keep: [config.infraImage],
    });
    this.reconciler = new SetReconciler({
      engine, host: config.name, dataDir: config.dataDir, infraImage: config.infraImage, infraPrivilege, log, exits: this.exits, network, volumes, health: this.book, prober: this.prober,
      images: this.images,
    });
    this.queue = new KeyedQueue((ref) => this.work(ref), config.concurrency, (ref, err) => log.error({ set: ref, err }, 'reconcile crashed'));
    metrics.prometheus.queueDepth = () => this.queue.size;
    this.firewalls = new KeyedQueue((ref) => this.refreshFirewall(ref), 1, (ref, err) => log.error({ set: ref, err }, 'firewall refresh crashed'));
  }

  /** `volumes`: the volume manager's retry and purge loop (started with it). */
  start(volumes: Promise<void>): void {
    const signal = this.abort.signal;
    const { config, log } = this;
    this.loops.push(
      volumes,
      registerLoop({
        client: this.client,
        engine: this.engine,
        host: { name: config.name, zone: config.zone, rack: config.rack, labels: config.labels },
        cpuOvercommit: config.cpuOvercommit,
        diskOvercommit: config.diskOvercommit,
        networks: config.networks,
        bandwidth: this.bandwidth,
        dataDir: config.dataDir,
        volumes: this.metrics.volumes ?? this.volumes,
        metrics: this.metrics.outbox,
        advertise: this.advertise,
        intervalMs: config.heartbeatIntervalSeconds * 1000,
        log,
        signal,
        onRegistered: () => {
          this.loops.push(
            desiredLoop({ client: this.client, host: config.name, waitSeconds: config.desiredWaitSeconds, log, signal, onSets: (answer) => this.onDesired(answer) }),
          );
        },
      }),
      dockerEventsLoop({
        engine: this.engine, log, signal, onEvent: (e) => this.onDockerEvent(e),
        onResubscribed: () => {
          this.metrics.eventsResubscribed();
          this.resync();
        },
      }),
      this.metrics.run(signal),
      this.imageGc.run(config.imageGcIntervalSeconds * 1000, signal, () => this.desiredReceived),
    );
    this.resyncTimer = setInterval(() => this.resync(), config.resyncIntervalSeconds * 1000);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.prober.close();
    this.images.close();
    clearInterval(this.resyncTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    // A reconcile may be in a 60 s pull: do not wait for it. Nothing is lost (level-triggered).
    await atMost(Promise.all([this.queue.close(), this.firewalls.close()]), 5_000);
    await atMost(this.reporter.flushed(), 1_000);
    await atMost(this.shimSync ?? Promise.resolve(), 1_000);
    await atMost(this.book.flushed(), 1_000);
    this.reporter.close();
    await Promise.allSettled(this.loops);
    await atMost(this.metrics.close(), 2_000);
  }

  private onDesired(answer: DesiredSets): void {
    this.revokedCertificates.clear();
    for (const f of answer.revokedCertificates ?? []) this.revokedCertificates.add(f);
    const next = new Map(answer.sets.map((s) => [setRef(s), s]));
    const net: NetworkState = { attachments: answer.networks ?? [], firewall: answer.firewall ?? {}, addressGroups: answer.addressGroups ?? {} };
    const changed: string[] = [];
    for (const [ref, s] of next) {
      const before = this.desired.get(ref);
      if (!before || setKey(before, this.net) !== setKey(s, net)) changed.push(ref);
    }
    const groupsChanged = changedGroups(this.net.addressGroups, net.addressGroups);
    this.net = net;
    this.network.setAddressGroups(net.addressGroups);
    const gone = [...this.desired.keys()].filter((ref) => !next.has(ref));
    const first = !this.desiredReceived;
    this.desired = next;
    this.desiredReceived = true;
    this.reporter.retain(new Set(next.keys()));
    for (const ref of gone) {
      this.reconciler.forget(ref);
      this.failures.delete(ref);
      this.lastWarning.delete(ref);
      this.reported.delete(ref);
      this.held.delete(ref);
    }
    this.log.debug({ sets: next.size, changed: changed.length, gone: gone.length }, 'desired state');
    this.prePull(changed);
    for (const ref of [...changed, ...gone]) this.queue.request(ref);
    if (groupsChanged.size > 0) {
      const reconciled = new Set(changed);
      for (const ref of next.keys()) {
        if (!reconciled.has(ref) && firewallGroups(net.firewall[ref]).some((g) => groupsChanged.has(g))) this.firewalls.request(ref);
      }
    }
    if (first) void this.sweepOrphans();
    this.syncShims();
  }

  /**
   * Rewrites a set's firewall with the newest address groups. When that fails (the
   * infra container was replaced meanwhile, say), the set is reconciled, which
   * programs its namespace whole or reports why it cannot.
   */
  private async refreshFirewall(ref: string): Promise<void> {
    if (this.abort.signal.aborted || !this.desired.has(ref)) return;
    try {
      if (await this.network.refreshFirewall(ref)) this.log.debug({ set: ref }, 'firewall rewritten with new addresses');
    } catch (err) {
      this.log.info({ set: ref, err: err instanceof Error ? err.message : String(err) }, 'cannot rewrite the firewall; reconciling the set');
      this.queue.request(ref);
    }
  }

  /**
   * The images of sets newly placed here (or changed) are pulled at once in the
   * background, beside the reconcile queue: one pull per image, each set told its progress.
   */
  private prePull(refs: string[]): void {
    const wanting = new Map<string, PullSubscriber[]>();
    for (const ref of refs) {
      const set = this.desired.get(ref);
      if (!set || set.deleting) continue;
      const onEvent: PullSubscriber['onEvent'] = (e) => {
        if (this.desired.has(ref)) this.reporter.addEvent(ref, identity(set), this.setEvent(e.type, e.reason, e.message));
      };
      for (const image of setImages(set, this.config.infraImage)) wanting.set(image, [...(wanting.get(image) ?? []), { key: ref, onEvent }]);
    }
    for (const [image, subscribers] of wanting) this.images.prePull(image, subscribers);
  }

  /** What the image GC never removes: the images of the sets placed here, and the pulls under way. */
  private wantedImages(): string[] {
    const sets = [...this.desired.values()].filter((s) => !s.deleting);
    return [...sets.flatMap((s) => setImages(s, this.config.infraImage)), ...this.images.pulling()];
  }

  /** The host's routes to its own sets' IPs (see network/shim.ts); errors are logged, the next answer or resync retries. */
  private syncShims(): void {
    if (this.abort.signal.aborted) return;
    if (this.shimSync) {
      this.shimAgain = true;
      return;
    }
    this.shimSync = (async () => {
      do {
        this.shimAgain = false;
        try {
          const done = await this.network.syncShims([...this.desired.values()], this.net.attachments);
          if (done.length > 0) this.log.info({ commands: done }, 'host shim updated');
        } catch (err) {
          this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot update the host shim (the host may not reach its own sets)');
        }
      } while (this.shimAgain && !this.abort.signal.aborted);
      this.shimSync = undefined;
    })();
  }

  /** Every desired set again, plus containers of sets no longer desired; statuses are re-sent. */
  private resync(): void {
    if (!this.desiredReceived) return;
    for (const ref of this.desired.keys()) {
      this.forceReport.add(ref);
      this.queue.request(ref);
    }
    void this.sweepOrphans();
    this.syncShims();
  }

  private async sweepOrphans(): Promise<void> {
    try {
      const managed = await this.engine.listManaged();
      for (const ref of new Set(managed.map((m) => m.setRef))) if (!this.desired.has(ref)) this.queue.request(ref);
    } catch (err) {
      this.log.debug({ kind: failureKind(err) }, 'orphan sweep skipped: docker unavailable');
    }
  }

  private onDockerEvent(e: EngineEvent): void {
    this.metrics.containerChanged(e.containerId);
    const ref = e.labels[Labels.set];
    if (!ref) return;
    const set = this.desired.get(ref);
    if (set && e.action === 'oom') {
      this.reporter.addEvent(ref, identity(set), this.setEvent('Warning', 'OOMKilled', `container ${e.labels[Labels.name] ?? e.containerId} was killed: out of memory`));
    }
    if (e.action === 'die' && this.exits.unexpected(e.containerId) && set) {
      this.reporter.addEvent(ref, identity(set), this.setEvent('Warning', 'Died', `container ${e.labels[Labels.name] ?? e.containerId} exited with code ${e.exitCode ?? 'unknown'}`));
    }
    if (this.timers.has(`event:${ref}`)) return;
    this.timers.set(
      `event:${ref}`,
      setTimeout(() => {
        this.timers.delete(`event:${ref}`);
        this.queue.request(ref);
      }, EVENT_DEBOUNCE_MS),
    );
  }

  private setEvent(type: 'Normal' | 'Warning', reason: string, message: string) {
    return { time: new Date().toISOString(), type, reason, message, host: this.config.name };
  }

  /** A probe verdict changed: the set's latest status goes out again with it. */
  private onHealthChange(ref: string): void {
    const set = this.desired.get(ref);
    if (!set || this.held.has(ref)) return;
    const state = this.reporter.latest(ref);
    if (state && 'status' in state) this.reporter.update(ref, identity(set), { status: this.reconciler.withHealth(state.status) });
  }

  /** The set's next reconcile stops the container; its restart policy and back-off decide the start. */
  private onLivenessFailure(ref: string, f: LivenessFailure): void {
    const set = this.desired.get(ref);
    if (!set) return;
    this.reporter.addEvent(ref, identity(set), this.setEvent('Warning', 'Unhealthy', `container ${f.name}: ${f.message}`));
    this.reconciler.requestKill(ref, f);
    this.queue.request(ref);
  }

  /** Hands a state to the reporter, unless the set's first report is held. */
  private report(ref: string, id: SetIdentity, state: NonNullable<ReconcileResult['report']>, force = false): void {
    if (this.held.has(ref) && 'status' in state) {
      if (this.prober.awaiting(ref)) {
        this.held.set(ref, state);
        return;
      }
      this.held.delete(ref);
      force = true;
    }
    this.reporter.update(ref, id, state, force);
  }

  /** After the first reconcile of a set: its report waits (bounded) for the first probe results. */
  private releaseWhenProbed(ref: string, id: SetIdentity): void {
    if (!this.held.has(ref)) return;
    void this.prober.firstResults(ref).then(() => {
      if (!this.held.has(ref)) return;
      const state = this.held.get(ref);
      this.held.delete(ref);
      if (state) this.reporter.update(ref, id, 'status' in state ? { status: this.reconciler.withHealth(state.status) } : state, true);
    });
  }

  private async work(ref: string): Promise<void> {
    if (this.abort.signal.aborted) return;
    const set = this.desired.get(ref);
    if (!set) {
      if (!this.desiredReceived) return;
      const result = await this.reconciler.removeOrphan(ref, { onEvent: (e) => this.log.info({ set: ref, reason: e.reason }, e.message) });
      if (!result.ok) this.retryLater(ref, undefined);
      return;
    }
    const key = setKey(set, this.net);
    const failure = this.failures.get(ref);
    if (failure && failure.key === key && Date.now() < failure.until) {
      this.schedule(ref, failure.until - Date.now());
      return;
    }
    const id = identity(set);
    const first = !this.reported.has(ref);
    if (first) {
      this.reported.add(ref);
      this.held.set(ref, undefined);
    }
    const hooks: ReconcileHooks = {
      onEvent: (e) => {
        if (e.type === 'Warning') {
          const key = `${e.reason}\n${e.message}`;
          if (this.lastWarning.get(ref) === key) return;
          this.lastWarning.set(ref, key);
        }
        this.reporter.addEvent(ref, id, e);
      },
      onProgress: (status) => this.report(ref, id, { status }),
    };
    let ok = false;
    const started = performance.now();
    try {
      const result = await this.reconciler.reconcile(set, hooks, { attachments: this.net.attachments, ...(this.net.firewall[ref] ? { firewall: this.net.firewall[ref] } : {}) });
      ok = result.ok;
      this.metrics.prometheus.reconciled((performance.now() - started) / 1000, ok ? 'ok' : 'failed');
      if (result.report) this.report(ref, id, result.report, this.forceReport.delete(ref));
      if (result.wakeAt !== undefined) this.wakeAt(ref, result.wakeAt);
    } catch (err) {
      // Docker did not answer at all: nothing true to report; try again later.
      this.metrics.prometheus.reconciled((performance.now() - started) / 1000, 'error');
      this.log.warn({ set: ref, kind: failureKind(err), err: err instanceof Error ? err.message : String(err) }, 'reconcile failed');
    }
    if (first) {
      if (this.held.get(ref) === undefined) this.held.delete(ref);
      else this.releaseWhenProbed(ref, id);
    }
    if (ok) {
      this.failures.delete(ref);
      this.lastWarning.delete(ref);
    } else {
      this.retryLater(ref, key);
    }
  }

  /** Back-off per set: 1 s, 2 s, 4 s … at most 10 s; a changed desired state skips it. */
  private retryLater(ref: string, key: string | undefined): void {
    const count = (this.failures.get(ref)?.count ?? 0) + 1;
    const delay = backoffDelay(count, 1_000, MAX_SET_BACKOFF_MS);
    this.failures.set(ref, { count, until: Date.now() + delay, key: key ?? '' });
    this.schedule(ref, delay);
  }

  /** A container's restart back-off ends then: reconcile the set (the earliest such time wins). */
  private wakeAt(ref: string, at: number): void {
    const name = `wake:${ref}`;
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
    this.schedule(ref, Math.max(0, at - Date.now()), name);
  }

  /** Reconciles the set in `ms`, unless the timer `name` is set already. */
  private schedule(ref: string, ms: number, name = `retry:${ref}`): void {
    if (this.timers.has(name) || this.abort.signal.aborted) return;
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        this.queue.request(ref);
      }, ms),
    );
  }
}

function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** For a wildcard listen address, the first external IPv4 address (else loopback). */
function defaultAdvertise(addr: Pick<AddressInfo, 'address' | 'port'>, scheme: 'http' | 'https'): string {
  let host = addr.address;
  if (host === '0.0.0.0' || host === '::') {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    host = external?.address ?? '127.0.0.1';
  }
  return `${scheme}://${urlHost(host)}:${addr.port}`;
}

/**
 * The host's certificate: the one kept in <data-dir>/tls, else one got now by joining
 * with a one-use token; undefined for an agent on the shared join token.
 */
async function hostIdentity(config: ResolvedConfig, advertise: string, log: Logger): Promise<HostIdentity | undefined> {
  const dir = join(config.dataDir, 'tls');
  const kept = await loadIdentity(dir, config.name, log);
  if (kept) {
    if (config.joinToken && !pinnedCa(config.joinToken)) log.warn('the host has a certificate: the shared join token given is not used');
    if (!certifiesAddress(kept, advertise)) log.warn({ advertise }, `the host certificate does not name the advertised address: the server will refuse it; remove ${dir} and join again with a new token`);
    return kept;
  }
  if (!config.joinToken || !pinnedCa(config.joinToken)) return undefined;
  return joinUntilDone({ server: config.server, token: config.joinToken, name: config.name, advertise, dir, log });
}

/** What the host pulls from the platform registry with: its registry secret when it joined, else the shared join token. */
function registryCredentials(name: string, joinToken: string | undefined, tls: HostIdentity | undefined): { credentials: { username: string; password: string } } | undefined {
  if (tls?.registrySecret) return { credentials: { username: name, password: tls.registrySecret } };
  return joinToken ? { credentials: { username: HOST_REGISTRY_USER, password: joinToken } } : undefined;
}

async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  server.listen(port, host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  return server.address() as AddressInfo;
}

/** Starts the agent: HTTP API first, then the loops (which retry until server and Docker answer). */
export async function startAgent(input: AgentConfig = {}): Promise<RunningAgent> {
  const config = resolveConfig(input);
  const log = config.logger ?? pino({ name: 'wharf-agent', level: 'info' }, pino.destination(2));
  await mkdir(config.dataDir, { recursive: true });
  const { host, port } = parseListen(config.listen);
  // Only the host of the advertised URL goes into the certificate: the port may still be 0 here.
  const tls = await hostIdentity(config, config.advertise ?? defaultAdvertise({ address: host, port }, 'https'), log);
  const joinToken = tls ? undefined : config.joinToken;
  // The host certificate's fetch: to the server, and to other agents for volume exports.
  // The identity a renewal replaces: the client, the volume pulls and the HTTPS server take the new one.
  let identity = tls;
  const certFetch = tls ? tlsFetch(() => identity as HostIdentity) : undefined;
  const client = new WharfClient({ server: config.server, timeoutMs: SERVER_REQUEST_TIMEOUT_MS, ...(joinToken ? { token: joinToken } : {}), ...(certFetch ? { fetch: certFetch } : {}) });
  const registry = new RegistryAccess({
    fetchInfo: () => client.request('GET', '/v1/registry'),
    certsDir: config.dockerCertsDir, log, ...(registryCredentials(config.name, joinToken, tls) ?? {}),
  });
  const engine = config.engine ?? new DockerodeEngine(config.dockerSocket, registry.authFor);
  if (!joinToken && !tls) log.warn('no join token: the agent API accepts every request');

  const driver = config.volumes ?? createVolumeDriver(config);
  const volumes = new VolumeManager({
    driver,
    dataDir: config.dataDir,
    host: config.name,
    retentionMs: config.trashRetentionSeconds * 1000,
    log,
    inUse: async (set) => (await engine.listSet(setRef(set))).some((c) => c.state === 'running' || c.state === 'restarting' || c.state === 'paused'),
    ...(joinToken ? { token: joinToken } : {}),
    ...(certFetch ? { fetch: certFetch } : {}),
  });
  const metrics = new MetricsPipeline({
    engine, host: { name: config.name, zone: config.zone }, uplinks: config.networks.map((n) => n.uplink), volumes,
    intervalSeconds: config.metricsIntervalSeconds, reporters: config.reporters, tags: config.metricsTags, include: config.metricsInclude, log,
    ...(config.netns ? { netns: config.netns } : {}),
  });
  const revokedCertificates = new Set<string>();
  const http = createHttpServer({
    engine, log, volumes, ...(joinToken ? { token: joinToken } : {}), ...(tls ? { tls, revokedCertificates } : {}),
    metrics: { render: () => metrics.prometheus.render(), contentType: metrics.prometheus.contentType, public: config.metricsPublic },
  });
  const addr = await listen(http, host, port).catch(async (err: unknown) => {
    await metrics.close();
    throw err;
  });
  const scheme = tls ? 'https' : 'http';
  const url = `${scheme}://${urlHost(addr.address)}:${addr.port}`;
  const advertise = config.advertise ?? defaultAdvertise(addr, scheme);

  const network = new NetworkPlane({ engine, ...(config.runCommand ? { runner: config.runCommand } : {}), ...(config.netns ? { hostNetns: config.netns } : {}) });
  const uplink = config.networks[0]?.uplink;
  const bandwidth = config.bandwidth ?? (uplink ? await network.host.uplinkSpeed(uplink) : undefined) ?? DEFAULTS.bandwidth;

  const agent = new Agent(config, engine, log, advertise, network, bandwidth, volumes, metrics, registry, client, revokedCertificates);
  // The pool is set up before the first heartbeat (a failure is logged and retried, never fatal).
  agent.start((await volumes.start(agent.signal)).loop);
  const registryLoop = registry.run(agent.signal);
  const renewalLoop = tls
    ? keepRenewed({
      server: config.server, dir: join(config.dataDir, 'tls'), beforeMs: config.certRenewBeforeSeconds === undefined ? undefined : config.certRenewBeforeSeconds * 1000,
      current: () => identity as HostIdentity,
      renewed: (next) => {
        identity = next;
        (http as HttpsServer).setSecureContext({ key: next.key, cert: next.cert, ca: next.ca });
      },
      log, signal: agent.signal,
    })
    : Promise.resolve();
  log.info(
    {
      host: config.name, server: config.server, listen: url, advertise, auth: tls ? 'host certificate' : joinToken ? 'join token' : 'none', dataDir: config.dataDir, docker: config.dockerSocket, networks: config.networks, netns: config.netns, bandwidth,
      volumes: { driver: driver.name, pool: driver.pool, ready: volumes.ready, ...(volumes.error ? { error: volumes.error } : {}) },
    },
    'wharf-agent started',
  );

  let stopping: Promise<void> | undefined;
  return {
    url,
    stop: () =>
      (stopping ??= (async () => {
        await agent.stop();
        await registryLoop;
        await renewalLoop;
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        log.info('wharf-agent stopped; containers left running');
      })()),
  };
}
