/**
 * Executes the planner's actions for one set against the Engine, one at a time,
 * stopping at the first failure, and turns the outcome into a status report and
 * events. Failures never throw out of here except when Docker cannot even list the
 * set's containers (then there is nothing true to report).
 */
import type { Logger } from 'pino';
import { formatBytes, INFRA_NAME, resolveSetSpec, setRef, type SetEvent, type SetIp, type SetObject, type SetReport } from '@wharf/types';
import { desiredSet, endpointsOf, withInfraId, type DesiredContainer, type DesiredSet, type SetIdentity } from './containers.js';
import type { Engine, ObservedContainer } from './docker/engine.js';
import type { ExitTracker } from './exits.js';
import { HealthBook, exitKey, type ContainerRecord } from './health/book.js';
import type { LivenessFailure, Prober, ProbeTarget } from './health/prober.js';
import { isFailure, waitingMessage, backOffMessage, restartDelay } from './health/restart-policy.js';
import { describe, matchObserved, plan, type Action, type ExitFacts, type Mode, type PlannedContainer } from './plan.js';
import { containerStatus, degradedMessage, derivePhase, setReady, withVerdicts, type ContainerHealth } from './status.js';
import type { InfraPrivilege } from './privilege.js';
import { NetworkPlane, type SetNetworkContext } from './network/plane.js';
import type { Bandwidth } from './network/tc.js';
import type { VolumeManager } from './volumes/manager.js';
import { ImagePuller, ImagePullError } from './images/puller.js';

export type ReportedStatus = NonNullable<SetReport['status']>;

export interface ReconcilerOptions {
  engine: Engine;
  host: string;
  dataDir: string;
  infraImage: string;
  /** Default: privileged. */
  infraPrivilege?: InfraPrivilege;
  log: Logger;
  exits: ExitTracker;
  /** Gets images onto the host (shared with the pre-pulls). Default: one on `engine`. */
  images?: ImagePuller;
  stopTimeoutSeconds?: number;
  /** Docker networks, set namespaces. Default: one on `engine`, commands in the agent's own namespace. */
  network?: NetworkPlane;
  /** The host's volumes: every set's volume is ensured (with its limit) before its containers. */
  volumes: VolumeManager;
  /** Restart counts, last terminations and back-off of business containers. Default: kept in `<dataDir>/health`. */
  health?: HealthBook;
  /** Runs the liveness and readiness probes. Without one, no probe runs (a container with a readiness probe is never ready). */
  prober?: Prober;
  /** Milliseconds since the epoch, for the restart back-off. Default Date.now. */
  now?: () => number;
}

export interface ReconcileHooks {
  onEvent(e: SetEvent): void;
  /** The status while the reconcile is under way (after each start or stop). */
  onProgress?(status: ReportedStatus): void;
}

export interface ReconcileResult {
  /** What to report for the set; undefined for an orphan (the server does not know it). */
  report?: { status: ReportedStatus } | { deleted: true };
  /** False when an action failed: retry with back-off. */
  ok: boolean;
  actions: string[];
  /** Reconcile again then (ms since the epoch): a container waits for its restart back-off. */
  wakeAt?: number;
}

/** Mutable state of one reconcile run. */
interface Run {
  ref: string;
  identity: SetIdentity;
  mode: Mode;
  generation: number;
  volumePath?: string;
  /** Desired containers (empty when deleting). */
  desired: DesiredContainer[];
  /** The container currently standing for each name (desired and not). */
  current: Map<string, ObservedContainer>;
  /** Containers to remove that are not desired (keyed by ID). */
  leftovers: Map<string, ObservedContainer>;
  messages: Map<string, string>;
  failed: boolean;
  message?: string;
  /** What the set waits for while nothing failed (a pull and its progress). */
  activity?: string;
  /** Reconcile again then: an image is in its pull back-off until that time. */
  retryAt?: number;
  remaining: number;
  removedSomething: boolean;
  hooks: ReconcileHooks;
  /** What the set's namespace should look like (desired running only). */
  net?: { ips: SetIp[]; ctx: SetNetworkContext; bandwidth: Bandwidth };
  /** Programming the namespace failed in this run: do not try again before the retry. */
  networkFailed?: boolean;
  /** IDs of containers this run's plan removes. */
  removing: Set<string>;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class SetReconciler {
  private readonly opts: ReconcilerOptions & Required<Pick<ReconcilerOptions, 'stopTimeoutSeconds'>>;
  /** restartRequestedAt values already carried out, so a clock skew cannot cause a restart loop. */
  private readonly restartsDone = new Map<string, string>();
  private readonly network: NetworkPlane;
  private readonly images: ImagePuller;
  private readonly book: HealthBook;
  private readonly now: () => number;
  private readonly desiredKept = new Map<string, { key: string; resolved: ReturnType<typeof resolveSetSpec>; desired?: DesiredSet }>();

  constructor(opts: ReconcilerOptions) {
    this.opts = { stopTimeoutSeconds: 10, ...opts };
    this.images = opts.images ?? new ImagePuller({ engine: opts.engine, log: opts.log });
    this.network = opts.network ?? new NetworkPlane({ engine: opts.engine });
    this.now = opts.now ?? Date.now;
    this.book = opts.health ?? new HealthBook(opts.dataDir, opts.log, this.now);
  }

  /**
   * The set's resolved spec and desired containers, worked out again only when what they
   * depend on changed: every resync reconciles every set, and hashing each container's
   * config costs more than comparing the set's JSON.
   */
  private desiredOf(ref: string, set: SetObject): { resolved: ReturnType<typeof resolveSetSpec>; desired?: DesiredSet } {
    const key = JSON.stringify([set.tenant, set.appkey, set.id, set.generation, set.spec, set.ips ?? null]);
    const kept = this.desiredKept.get(ref);
    if (kept?.key === key) return kept;
    const fresh = { key, resolved: resolveSetSpec(set.spec) };
    this.desiredKept.set(ref, fresh);
    return fresh;
  }

  private keepDesired(ref: string, desired: DesiredSet): DesiredSet {
    const kept = this.desiredKept.get(ref);
    if (kept) kept.desired = desired;
    return desired;
  }

  /** A failed liveness probe: the container is stopped by the set's next reconcile. */
  requestKill(ref: string, failure: LivenessFailure): void {
    this.book.requestKill(ref, failure.name, { id: failure.id, startedAt: failure.startedAt, message: failure.message });
  }

  /** A status with the probes' current verdicts (ready, healthy) and the set's readiness. */
  withHealth(status: ReportedStatus): ReportedStatus {
    const prober = this.opts.prober;
    return prober ? withVerdicts(status, (id, startedAt) => prober.verdict(id, startedAt)) : status;
  }

  /** `net`: the host's network attachments and the set's firewall, from the same desired-state answer. */
  async reconcile(set: SetObject, hooks: ReconcileHooks, net: SetNetworkContext = {}): Promise<ReconcileResult> {
    const ref = setRef(set);
    const observed = await this.opts.engine.listSet(ref);
    const identity: SetIdentity = { tenant: set.tenant, appkey: set.appkey, id: set.id };
    if (set.deleting) return this.remove(ref, identity, observed, hooks, set.generation, true);

    // A set of an app's warm pool runs like any other, then its business containers are paused.
    const mode: Mode = set.desired === 'running' && set.standby ? 'standby' : set.desired;
    const run = this.newRun(ref, identity, mode, set.generation, observed, hooks);
    await this.book.load(ref);
    const { resolved, desired: known } = this.desiredOf(ref, set);
    let desired: DesiredSet;
    let reason = 'InvalidSpec';
    try {
      if (!resolved.ok) throw new Error(`invalid spec: ${resolved.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
      desired = known ?? this.keepDesired(ref, desiredSet(set, resolved.set, this.opts));
      reason = 'VolumeFailed';
      // The volume and its limit (the set's disk): a changed size applies online, no container is touched.
      for (const e of await this.opts.volumes.ensure(identity, resolved.set.diskBytes)) this.event(run, e.type, e.reason, e.message);
    } catch (err) {
      run.failed = true;
      run.message = reason === 'VolumeFailed' ? `cannot set up the volume: ${errorText(err)}` : errorText(err);
      this.event(run, 'Warning', reason, run.message);
      return { report: { status: this.observedOnlyStatus(run, observed) }, ok: false, actions: [] };
    }
    run.desired = desired.containers;
    run.volumePath = desired.volumePath;
    if (mode !== 'stopped' && resolved.ok) run.net = { ips: set.ips ?? [], ctx: net, bandwidth: resolved.set.bandwidth };
    const { byName } = matchObserved(desired.containers, observed);
    run.current = byName;

    const restartRequestedAt = set.restartRequestedAt !== undefined && this.restartsDone.get(ref) !== set.restartRequestedAt ? set.restartRequestedAt : undefined;
    this.noteExits(run);
    // Containers found running are probed from now on (at once after an agent restart).
    this.syncProbes(run);
    const actions = plan({ mode, desired: desired.containers, observed, ...(restartRequestedAt ? { restartRequestedAt } : {}), ...this.exitFacts(run), now: this.now() });
    let ok = await this.execute(run, actions);
    // Firewall and bandwidth changes arrive without container changes: apply them (a no-op when nothing changed).
    if (!run.networkFailed && !(await this.programNetwork(run))) ok = false;
    if (ok && restartRequestedAt) this.restartsDone.set(ref, restartRequestedAt);
    this.noteExits(run);
    this.announceBackOffs(run);
    this.syncProbes(run);
    const wakeAt = earliest(this.nextRestart(run), run.retryAt);
    return { report: { status: this.status(run) }, ok, actions: actions.map(describe), ...(wakeAt !== undefined ? { wakeAt } : {}) };
  }

  /** The business containers of the run, each with what stands for it now and its record. */
  private business(run: Run): { d: DesiredContainer; o: ObservedContainer | undefined; r: ContainerRecord | undefined }[] {
    return run.desired.filter((d) => d.role === 'business').map((d) => ({ d, o: run.current.get(d.name), r: this.book.get(run.ref, d.name) }));
  }

  /** Records exits not seen before (a crash, a completion; the agent's own stops are recorded when made). */
  private noteExits(run: Run): void {
    for (const { d, o } of this.business(run)) {
      if (!o || (o.state !== 'exited' && o.state !== 'dead') || !o.finishedAt) continue;
      this.book.recordExit(run.ref, d.name, o, { cause: 'exited', policy: d.health?.restartPolicy ?? 'always' });
    }
  }

  /** The planner's view of the records: who exited how, back-off, liveness kills due. */
  private exitFacts(run: Run): { exits: Record<string, ExitFacts>; kills: Record<string, string> } {
    const exits: Record<string, ExitFacts> = {};
    const kills: Record<string, string> = {};
    for (const { d, o, r } of this.business(run)) {
      if (this.book.pendingKill(run.ref, d.name, o)) kills[d.name] = 'liveness probe failed';
      if (!o || !r?.lastTermination || r.exit !== exitKey(o)) continue;
      exits[d.name] = {
        ...(r.byAgent ? { byAgent: true } : {}),
        failed: isFailure(r.lastTermination.reason),
        ...(r.backOffUntil !== undefined ? { notBefore: r.backOffUntil } : {}),
      };
    }
    return { exits, kills };
  }

  /** The record of an exited container that waits for its restart back-off. */
  private backOffUntil(o: ObservedContainer | undefined, r: ContainerRecord | undefined): number | undefined {
    if (!o || o.state !== 'exited' || !r || r.exit !== exitKey(o) || r.byAgent || r.backOffUntil === undefined) return undefined;
    return r.backOffUntil > this.now() ? r.backOffUntil : undefined;
  }

  /** One BackOff warning per streak of restarts. */
  private announceBackOffs(run: Run): void {
    for (const { d, o, r } of this.business(run)) {
      if (!r || r.announced || this.backOffUntil(o, r) === undefined) continue;
      this.event(run, 'Warning', 'BackOff', `${backOffMessage(d.name, restartDelay(r.streak))} (${r.lastTermination?.reason ?? 'Error'}, exit code ${r.lastTermination?.exitCode ?? 'unknown'})`);
      this.book.markAnnounced(run.ref, d.name);
    }
  }

  private nextRestart(run: Run): number | undefined {
    const times = this.business(run).flatMap(({ o, r }) => this.backOffUntil(o, r) ?? []);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** Hands the running containers with probes to the prober (none while the set is stopped). */
  private syncProbes(run: Run): void {
    const prober = this.opts.prober;
    if (!prober) return;
    const infra = run.current.get(INFRA_NAME);
    const targets: ProbeTarget[] = [];
    if (run.mode === 'running') {
      for (const { d, o } of this.business(run)) {
        if (!o || o.state !== 'running' || !o.startedAt || !d.health || (!d.health.liveness && !d.health.readiness)) continue;
        targets.push({ name: d.name, id: o.id, startedAt: o.startedAt, ...(d.health.liveness ? { liveness: d.health.liveness } : {}), ...(d.health.readiness ? { readiness: d.health.readiness } : {}) });
      }
    }
    prober.sync(run.ref, infra?.state === 'running' ? infra.id : undefined, targets);
  }

  /**
   * Programs the set's namespace (secondary IPs, bandwidth, firewall) while its infra
   * container runs; done before business containers start, so they never run
   * unfiltered. A failure is a NetworkFailed warning and a retry.
   */
  private async programNetwork(run: Run): Promise<boolean> {
    const infra = run.current.get(INFRA_NAME);
    if (!run.net || !infra || infra.state !== 'running' || infra.pid === undefined || run.networkFailed) return !run.networkFailed;
    try {
      const parts = await this.network.program(run.ref, { pid: infra.pid, ...(infra.startedAt ? { startedAt: infra.startedAt } : {}) }, run.net.ips, run.net.ctx, run.net.bandwidth);
      if (parts.length > 0) this.opts.log.info({ set: run.ref, parts }, 'programmed the set network namespace');
      return true;
    } catch (err) {
      run.networkFailed = true;
      return this.fail(run, INFRA_NAME, 'NetworkFailed', errorText(err));
    }
  }

  /** Removes the containers of a set no longer placed here, and recycles its volume. */
  async removeOrphan(ref: string, hooks: ReconcileHooks): Promise<ReconcileResult> {
    const observed = await this.opts.engine.listSet(ref);
    const first = observed[0];
    if (!first) return { ok: true, actions: [] };
    const identity: SetIdentity = { tenant: first.tenant, appkey: first.appkey, id: first.setId };
    const result = await this.remove(ref, identity, observed, hooks, first.generation ?? 0, false);
    return { ok: result.ok, actions: result.actions };
  }

  /** The set is gone from this host: its restart records and probes too. */
  forget(ref: string): void {
    this.restartsDone.delete(ref);
    this.desiredKept.delete(ref);
    this.network.forget(ref);
    this.opts.prober?.forget(ref);
    void this.book.drop(ref);
  }

  private async remove(ref: string, identity: SetIdentity, observed: ObservedContainer[], hooks: ReconcileHooks, generation: number, report: boolean): Promise<ReconcileResult> {
    const run = this.newRun(ref, identity, 'deleting', generation, observed, hooks);
    const actions = plan({ mode: 'deleting', desired: [], observed });
    if (report && observed.length > 0) hooks.onProgress?.(this.observedOnlyStatus(run, observed));
    const ok = await this.execute(run, actions);
    if (ok && run.removedSomething) this.event(run, 'Normal', 'Deleted', `Deleted the set's containers${run.message ? `; ${run.message}` : ''}`);
    this.forget(ref);
    const result: ReconcileResult = { ok, actions: actions.map(describe) };
    if (report) result.report = ok ? { deleted: true } : { status: this.observedOnlyStatus(run, [...run.leftovers.values()]) };
    return result;
  }

  private newRun(ref: string, identity: SetIdentity, mode: Mode, generation: number, observed: ObservedContainer[], hooks: ReconcileHooks): Run {
    return {
      ref,
      identity,
      mode,
      generation,
      desired: [],
      current: new Map(),
      leftovers: new Map(observed.map((o) => [o.id, o])),
      messages: new Map(),
      failed: false,
      remaining: 0,
      removedSomething: false,
      hooks,
      removing: new Set(),
    };
  }

  private async execute(run: Run, actions: Action[]): Promise<boolean> {
    if (actions.length === 0) return true;
    const started = Date.now();
    run.remaining = actions.length;
    run.removing = new Set(actions.flatMap((a) => (a.kind === 'remove' ? [a.id] : [])));
    if (actions.some((a) => a.kind === 'start' || a.kind === 'stop')) this.progress(run);
    let ok = true;
    let resizeFailed = false;
    for (const action of actions) {
      this.opts.log.debug({ set: run.ref, action: describe(action), why: 'why' in action ? action.why : undefined }, 'action');
      run.remaining--; // counts the actions after this one: the last start reports the final phase
      const done = await this.step(run, action);
      // A refused resize leaves the old limits in force: the rest of the plan goes on, the set is retried.
      if (!done && action.kind === 'update') resizeFailed = true;
      else if (!done) {
        ok = false;
        break;
      }
    }
    run.remaining = 0;
    this.opts.log.info({ set: run.ref, actions: actions.map(describe), ok: ok && !resizeFailed, ms: Date.now() - started }, 'reconciled set');
    return ok && !resizeFailed;
  }

  private async step(run: Run, a: Action): Promise<boolean> {
    switch (a.kind) {
      case 'ensureImage':
        return this.ensureImage(run, a.image);
      case 'create':
        return this.create(run, a.name);
      case 'start':
        return this.start(run, a);
      case 'stop':
        return this.stop(run, a);
      case 'remove':
        return this.removeContainer(run, a);
      case 'update':
        return this.update(run, a);
      case 'pause':
      case 'unpause':
        return this.freeze(run, a);
      case 'recycleVolume':
        return this.recycle(run);
    }
  }

  /** Pulls the image unless the host has it (or joins its pre-pull); progress goes out as events and in the status message. */
  private async ensureImage(run: Run, image: string): Promise<boolean> {
    const subscriber = {
      key: run.ref,
      onEvent: (e: { type: SetEvent['type']; reason: string; message: string }) => {
        this.event(run, e.type, e.reason, e.message);
        run.activity = e.reason === 'Pulling' ? e.message.replace(/^Pulling/, 'pulling') : undefined;
        this.progress(run);
      },
    };
    try {
      await this.images.ensure(image, [subscriber]);
      return true;
    } catch (err) {
      const message = err instanceof ImagePullError ? err.message : `cannot pull image ${image}: ${errorText(err)}`;
      if (err instanceof ImagePullError) run.retryAt = err.retryAt;
      this.event(run, 'Warning', 'ImagePullFailed', message);
      for (const d of run.desired) if (d.image === image && !run.current.has(d.name)) run.messages.set(d.name, message);
      run.failed = true;
      run.message = message;
      return false;
    } finally {
      run.activity = undefined;
    }
  }

  private async create(run: Run, name: string): Promise<boolean> {
    const d = run.desired.find((c) => c.name === name);
    if (!d) return this.fail(run, name, 'CreateFailed', `cannot create container ${name}: not in the spec`);
    let config = d.config;
    if (d.role === 'business') {
      const infra = run.current.get(INFRA_NAME);
      if (!infra) return this.fail(run, name, 'CreateFailed', `cannot create container ${name}: the infra container is missing`);
      config = withInfraId(config, infra.id);
    }
    if (config.ips?.length && !(await this.ensureNetworks(run, name, config.ips))) return false;
    let id: string;
    try {
      id = await this.opts.engine.create(config);
    } catch (err) {
      return this.fail(run, name, 'CreateFailed', `cannot create container ${name}: ${errorText(err)}`);
    }
    // API 1.41 takes one network at create time: the others are connected before start.
    for (const [network, ip] of Object.entries(endpointsOf(config.ips ?? []))) {
      if (network === config.networkMode) continue;
      try {
        await this.opts.engine.connectNetwork(id, network, ip);
      } catch (err) {
        await this.opts.engine.remove(id).catch(() => undefined);
        return this.fail(run, name, 'NetworkFailed', `cannot attach container ${name} to Docker network ${network} with ${ip}: ${errorText(err)}`);
      }
    }
    run.current.set(name, createdContainer(id, run, d, config));
    this.event(run, 'Normal', 'Created', `Created container ${name}`);
    return true;
  }

  /** The Docker networks of a set's IPs, before its infra container is created. */
  private async ensureNetworks(run: Run, name: string, ips: NonNullable<DesiredContainer['config']['ips']>): Promise<boolean> {
    const platformIps = run.net?.ips ?? [];
    try {
      const warnings = await this.network.ensureNetworks(platformIps, run.net?.ctx.attachments ?? []);
      for (const w of warnings) this.event(run, 'Warning', 'NetworkMismatch', w);
      return true;
    } catch (err) {
      return this.fail(run, name, 'NetworkFailed', `cannot create container ${name} with ${ips.map((x) => x.ip).join(', ')}: ${errorText(err)}`);
    }
  }

  private async start(run: Run, a: Extract<Action, { kind: 'start' }>): Promise<boolean> {
    const id = a.id ?? run.current.get(a.name)?.id;
    if (!id) return this.fail(run, a.name, 'StartFailed', `cannot start container ${a.name}: it does not exist`);
    if (a.name !== INFRA_NAME && !(await this.programNetwork(run))) return false;
    try {
      await this.opts.engine.start(id);
    } catch (err) {
      await this.refresh(run, a.name, id);
      return this.fail(run, a.name, 'StartFailed', `cannot start container ${a.name}: ${errorText(err)}`);
    }
    if (a.afterExit) this.book.countRestart(run.ref, a.name);
    const after = await this.refresh(run, a.name, id);
    if (after?.state !== 'running') {
      // It died at once; Docker's die event becomes the Died event. Later containers wait for it.
      const message = `container ${a.name} did not stay up after start (${after?.state ?? 'gone'}${after?.exitCode ? `, exit code ${after.exitCode}` : ''})`;
      // A business container's status says more (its back-off, or that its policy leaves it exited).
      if (a.name === INFRA_NAME) run.message = message;
      else run.messages.set(a.name, message);
      return false;
    }
    if (a.name === INFRA_NAME && !(await this.programNetwork(run))) return false;
    const restarted = a.restart || a.afterExit === true;
    this.event(run, 'Normal', restarted ? 'Restarted' : 'Started', `${restarted ? 'Restarted' : 'Started'} container ${a.name}${a.why && a.why !== 'missing' && a.why !== 'not running' ? ` (${a.why})` : ''}`);
    this.progress(run);
    return true;
  }

  private async stop(run: Run, a: Extract<Action, { kind: 'stop' }>): Promise<boolean> {
    try {
      this.opts.exits.expect(a.id);
      await this.opts.engine.stop(a.id, this.opts.stopTimeoutSeconds);
    } catch (err) {
      run.message = `cannot stop container ${a.name}: ${errorText(err)}`;
      this.event(run, 'Warning', 'StopFailed', run.message);
      return false;
    }
    const after = await this.refresh(run, a.name, a.id);
    this.recordStop(run, a, after);
    this.event(run, 'Normal', 'Stopped', `Stopped container ${a.name} (${a.why})`);
    this.progress(run);
    return true;
  }

  /** The agent's own stop of a business container it keeps: a liveness kill, or a stop its policy does not judge. */
  private recordStop(run: Run, a: Extract<Action, { kind: 'stop' }>, after: ObservedContainer | undefined): void {
    const d = run.desired.find((c) => c.name === a.name && c.role === 'business');
    if (!d || !after || after.id !== a.id || run.removing.has(a.id) || !after.finishedAt) return;
    const policy = d.health?.restartPolicy ?? 'always';
    if (a.unhealthy) {
      const kill = this.book.takeKill(run.ref, a.name);
      this.book.recordExit(run.ref, a.name, after, { cause: 'unhealthy', policy, ...(kill ? { message: kill.message } : {}) });
    } else {
      this.book.recordExit(run.ref, a.name, after, { cause: 'stopped', policy });
    }
  }

  /** Pauses a standby set's container, or thaws one (a set resumed from the warm pool, a pause by hand). */
  private async freeze(run: Run, a: Extract<Action, { kind: 'pause' | 'unpause' }>): Promise<boolean> {
    const id = a.id ?? run.current.get(a.name)?.id;
    const verb = a.kind === 'pause' ? 'pause' : 'unpause';
    if (!id) return this.fail(run, a.name, 'PauseFailed', `cannot ${verb} container ${a.name}: it does not exist`);
    try {
      await (a.kind === 'pause' ? this.opts.engine.pause(id) : this.opts.engine.unpause(id));
    } catch (err) {
      await this.refresh(run, a.name, id);
      return this.fail(run, a.name, a.kind === 'pause' ? 'PauseFailed' : 'UnpauseFailed', `cannot ${verb} container ${a.name}: ${errorText(err)}`);
    }
    await this.refresh(run, a.name, id);
    this.event(run, 'Normal', a.kind === 'pause' ? 'Paused' : 'Unpaused', a.kind === 'pause' ? `Paused container ${a.name} (warm pool)` : `Unpaused container ${a.name} (${a.why})`);
    this.progress(run);
    return true;
  }

  /** New CPU and memory limits in place: the container keeps running (or stays stopped). */
  private async update(run: Run, a: Extract<Action, { kind: 'update' }>): Promise<boolean> {
    const before = run.current.get(a.name);
    const change = limitsChange(before, a);
    try {
      await this.opts.engine.update(a.id, { nanoCpus: a.nanoCpus, memory: a.memory, memorySwap: a.memory });
    } catch (err) {
      run.message = `cannot resize container ${a.name} (${change}): ${errorText(err)}`;
      run.messages.set(a.name, run.message);
      this.event(run, 'Warning', 'ResizeFailed', run.message);
      return false;
    }
    await this.refresh(run, a.name, a.id);
    this.event(run, 'Normal', 'Resized', `Resized container ${a.name}: ${change}`);
    return true;
  }

  private async removeContainer(run: Run, a: Extract<Action, { kind: 'remove' }>): Promise<boolean> {
    try {
      this.opts.exits.expect(a.id);
      await this.opts.engine.remove(a.id);
    } catch (err) {
      run.message = `cannot remove container ${a.name}: ${errorText(err)}`;
      this.event(run, 'Warning', 'RemoveFailed', run.message);
      return false;
    }
    if (run.current.get(a.name)?.id === a.id) run.current.delete(a.name);
    run.leftovers.delete(a.id);
    run.removedSomething = true;
    if (run.mode !== 'deleting') this.event(run, 'Normal', 'Removed', `Removed container ${a.name} (${a.why})`);
    return true;
  }

  private async recycle(run: Run): Promise<boolean> {
    try {
      const entry = await this.opts.volumes.recycle(run.identity);
      if (entry) {
        run.removedSomething = true;
        run.message = `volume moved to the recycle bin as ${entry.trashId}`;
      }
      return true;
    } catch (err) {
      run.message = `cannot recycle the volume: ${errorText(err)}`;
      this.event(run, 'Warning', 'RecycleFailed', run.message);
      return false;
    }
  }

  /** Re-inspects a container after an action; keeps the last view when Docker cannot answer. */
  private async refresh(run: Run, name: string, id: string): Promise<ObservedContainer | undefined> {
    try {
      const o = await this.opts.engine.inspect(id);
      if (o) run.current.set(name, o);
      else if (run.current.get(name)?.id === id) run.current.delete(name);
      if (o && run.leftovers.has(id)) run.leftovers.set(id, o);
      return o;
    } catch {
      return run.current.get(name);
    }
  }

  private fail(run: Run, name: string, reason: string, message: string): false {
    run.failed = true;
    run.message = message;
    run.messages.set(name, message);
    this.event(run, 'Warning', reason, message);
    return false;
  }

  private event(run: Run, type: SetEvent['type'], reason: string, message: string): void {
    run.hooks.onEvent({ time: new Date().toISOString(), type, reason, message, host: this.opts.host });
  }

  private progress(run: Run): void {
    if (run.mode !== 'deleting' && run.hooks.onProgress) run.hooks.onProgress(this.status(run));
  }

  private status(run: Run): ReportedStatus {
    const now = this.now();
    const containers = run.desired.map((d) => {
      const o = run.current.get(d.name);
      const r = d.role === 'business' ? this.book.get(run.ref, d.name) : undefined;
      const exited = o && r && o.state === 'exited' && r.exit === exitKey(o);
      const waiting = exited && d.health ? waitingMessage(d.name, d.health.restartPolicy, r, now) : undefined;
      const verdict = o ? this.opts.prober?.verdict(o.id, o.startedAt) : undefined;
      const health: ContainerHealth = {
        ...(d.health?.liveness ? { liveness: true } : {}),
        ...(d.health?.readiness ? { readiness: true } : {}),
        ...(verdict ? { verdict } : {}),
        ...(r ? { restarts: r.restarts } : {}),
        ...(r?.lastTermination ? { lastTermination: r.lastTermination } : {}),
      };
      const until = this.backOffUntil(o, r);
      if (until !== undefined) health.backOffUntil = new Date(until).toISOString();
      return containerStatus(d, o, waiting ?? run.messages.get(d.name), health);
    });
    const phase = derivePhase({ mode: run.mode, containers, inProgress: run.remaining > 0, failed: run.failed });
    const message = run.message ?? run.activity ?? (phase === 'degraded' ? degradedMessage(containers) : undefined);
    return {
      phase,
      observedGeneration: run.generation,
      host: this.opts.host,
      ...(message ? { message } : {}),
      ...(run.volumePath ? { volumePath: run.volumePath } : {}),
      containers,
      ready: run.mode === 'running' && setReady(containers),
    };
  }

  /** Status when there is no desired container list (bad spec, deletion under way). */
  private observedOnlyStatus(run: Run, observed: ObservedContainer[]): ReportedStatus {
    const sorted = [...observed].sort((a, b) => a.index - b.index);
    const containers = sorted.map((o) => containerStatus(o as PlannedContainer, o));
    return {
      phase: derivePhase({ mode: run.mode, containers, inProgress: false, failed: run.failed }),
      observedGeneration: run.generation,
      host: this.opts.host,
      ...(run.message ? { message: run.message } : {}),
      containers,
    };
  }
}

function earliest(...times: (number | undefined)[]): number | undefined {
  const defined = times.filter((t): t is number => t !== undefined);
  return defined.length > 0 ? Math.min(...defined) : undefined;
}

const cores = (nanoCpus: number | undefined): string => (nanoCpus ? `${Number((nanoCpus / 1e9).toFixed(3))} cores` : 'unlimited');
const bytes = (memory: number | undefined): string => (memory ? formatBytes(memory) : 'unlimited');

/** "cpu 0.5 → 1 cores, memory 256Mi → 512Mi" (only what changes). */
function limitsChange(o: ObservedContainer | undefined, a: { nanoCpus: number; memory: number }): string {
  const parts: string[] = [];
  if (o?.nanoCpus !== a.nanoCpus) parts.push(`cpu ${cores(o?.nanoCpus).replace(/ cores$/, '')} → ${cores(a.nanoCpus)}`);
  if (o?.memory !== a.memory) parts.push(`memory ${bytes(o?.memory)} → ${bytes(a.memory)}`);
  return parts.join(', ');
}

/** What a just-created container looks like, without asking Docker again. */
function createdContainer(id: string, run: Run, d: DesiredContainer, config: DesiredContainer['config']): ObservedContainer {
  return {
    id,
    dockerName: config.dockerName,
    setRef: run.ref,
    tenant: run.identity.tenant,
    appkey: run.identity.appkey,
    setId: run.identity.id,
    name: d.name,
    role: d.role,
    index: d.index,
    image: d.image,
    specHash: d.specHash,
    generation: run.generation,
    state: 'created',
    oomKilled: false,
    restartCount: 0,
    networkMode: config.networkMode,
    ...(config.ips?.length ? { endpoints: endpointsOf(config.ips) } : {}),
    ...(config.nanoCpus !== undefined ? { nanoCpus: config.nanoCpus } : {}),
    ...(config.memory !== undefined ? { memory: config.memory } : {}),
  };
}
