/**
 * The containers the collector measures, and where their cgroups are. Docker is
 * asked once per collection for the cheap list of managed containers; a container
 * is inspected (PID, start time, limits) only when it is new or marked stale — by a
 * Docker event for it (start, die, update…), a re-subscribed event stream, or its
 * cgroup files vanishing or its counters going backwards. Its cgroup directories
 * come from /proc/<pid>/cgroup and are kept until then.
 */
import type { Logger } from 'pino';
import type { Engine, ObservedContainer } from '../docker/engine.js';
import { cgroupPath, parseMountinfo, parseProcCgroup, resolveCgroup, type CgroupMounts, type ContainerCgroup } from './cgroup-paths.js';
import type { ReadText } from './cgroup-sample.js';

export interface MeasuredContainer extends Pick<ObservedContainer, 'id' | 'setRef' | 'tenant' | 'appkey' | 'setId' | 'name' | 'role' | 'nanoCpus' | 'memory'> {
  pid: number;
  /** Docker's StartedAt: with the ID, what changes when the container restarts. */
  startedAt: string;
  startedAtMs?: number;
  cgroup: ContainerCgroup;
}

interface Entry {
  /** undefined: not running, or its cgroup is not visible from here. */
  container?: MeasuredContainer;
  stale: boolean;
}

const INSPECTS_AT_ONCE = 8;

export interface InventoryDeps {
  engine: Pick<Engine, 'listManaged' | 'inspect'>;
  read: ReadText;
  /** Default /proc. */
  procRoot?: string;
  log: Logger;
}

export class ContainerInventory {
  private readonly known = new Map<string, Entry>();
  private mounts: CgroupMounts | undefined;
  private readonly procRoot: string;
  private warned = false;

  constructor(private readonly deps: InventoryDeps) {
    this.procRoot = deps.procRoot ?? '/proc';
  }

  /** Look the container up again before its next measurement. */
  invalidate(id: string): void {
    const e = this.known.get(id);
    if (e) e.stale = true;
  }

  invalidateAll(): void {
    for (const e of this.known.values()) e.stale = true;
  }

  /** The running managed containers whose cgroups can be read. Rejects when Docker does not answer the list. */
  async running(): Promise<MeasuredContainer[]> {
    const list = await this.deps.engine.listManaged();
    const ids = new Set(list.map((c) => c.id));
    for (const id of this.known.keys()) if (!ids.has(id)) this.known.delete(id);
    const todo = list.filter((c) => this.known.get(c.id)?.stale ?? true).map((c) => c.id);
    for (let i = 0; i < todo.length; i += INSPECTS_AT_ONCE) {
      await Promise.all(todo.slice(i, i + INSPECTS_AT_ONCE).map((id) => this.refresh(id)));
    }
    return [...this.known.values()].flatMap((e) => (e.container ? [e.container] : []));
  }

  private async refresh(id: string): Promise<void> {
    let o: ObservedContainer | undefined;
    try {
      o = await this.deps.engine.inspect(id);
    } catch (err) {
      this.deps.log.debug({ container: id, err: err instanceof Error ? err.message : String(err) }, 'metrics: inspect failed; trying again next time');
      return;
    }
    if (!o || o.state !== 'running' || o.pid === undefined || o.startedAt === undefined) {
      this.known.set(id, { stale: false });
      return;
    }
    const cgroup = this.cgroupOf(id, o.pid);
    this.known.set(id, { stale: false, ...(cgroup ? { container: measured(o, o.pid, o.startedAt, cgroup) } : {}) });
  }

  private cgroupOf(id: string, pid: number): ContainerCgroup | undefined {
    try {
      this.mounts ??= parseMountinfo(this.deps.read(`${this.procRoot}/self/mountinfo`));
      const cg = resolveCgroup(this.mounts, parseProcCgroup(this.deps.read(`${this.procRoot}/${pid}/cgroup`)));
      // The path names the container (any Docker cgroup driver or parent); else the PID is not its own any more.
      if (cg && cgroupPath(cg).includes(id)) return cg;
      this.deps.log[this.warned ? 'debug' : 'warn']({ container: id, pid, cgroup: cg }, 'metrics: the cgroup of this container is not visible here; not measured');
      this.warned = true;
    } catch (err) {
      this.deps.log.debug({ container: id, pid, err: err instanceof Error ? err.message : String(err) }, 'metrics: cannot read the container\'s cgroup');
    }
    return undefined;
  }
}

function measured(o: ObservedContainer, pid: number, startedAt: string, cgroup: ContainerCgroup): MeasuredContainer {
  const ms = Date.parse(startedAt);
  return {
    id: o.id, setRef: o.setRef, tenant: o.tenant, appkey: o.appkey, setId: o.setId, name: o.name, role: o.role, pid, startedAt, cgroup,
    ...(Number.isFinite(ms) ? { startedAtMs: ms } : {}),
    ...(o.nanoCpus ? { nanoCpus: o.nanoCpus } : {}),
    ...(o.memory ? { memory: o.memory } : {}),
  };
}
