/**
 * Where a process's cgroup files are: its /proc/<pid>/cgroup paths placed under the
 * cgroup mounts of /proc/self/mountinfo. Nothing about Docker's layout is assumed
 * (cgroupfs `/docker/<id>`, systemd `docker-<id>.scope`, a custom --cgroup-parent).
 */

/** The v1 controllers the collector reads. */
export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'blkio', 'pids'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

interface Mount {
  /** The cgroup path mounted there ("/" for the whole hierarchy). */
  root: string;
  mountPoint: string;
}

export interface CgroupMounts {
  v1: Map<V1Controller, Mount>;
  v2?: Mount;
}

export type ContainerCgroup =
  | { version: 1; dirs: Partial<Record<V1Controller, string>> & { cpuacct: string; memory: string } }
  | { version: 2; dir: string };

/** mountinfo escapes blanks and backslashes as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The cgroup mounts of /proc/self/mountinfo; of several mounts of one hierarchy, the one showing most of it. */
export function parseMountinfo(text: string): CgroupMounts {
  const mounts: CgroupMounts = { v1: new Map() };
  const better = (old: Mount | undefined, m: Mount): boolean => !old || m.root.length < old.root.length;
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superOptions = ''] = line.slice(sep + 3).split(' ');
    const root = left[3];
    const mountPoint = left[4];
    if (root === undefined || mountPoint === undefined) continue;
    const m = { root: unescape(root), mountPoint: unescape(mountPoint) };
    if (fstype === 'cgroup2') {
      if (better(mounts.v2, m)) mounts.v2 = m;
    } else if (fstype === 'cgroup') {
      for (const opt of superOptions.split(',')) {
        const c = V1_CONTROLLERS.find((x) => x === opt);
        if (c && better(mounts.v1.get(c), m)) mounts.v1.set(c, m);
      }
    }
  }
  return mounts;
}

/** /proc/<pid>/cgroup: the path per v1 controller and the unified (v2) path. */
export function parseProcCgroup(text: string): { v1: Map<string, string>; v2?: string } {
  const out: { v1: Map<string, string>; v2?: string } = { v1: new Map() };
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers = '', path = ''] = m;
    if (id === '0' && controllers === '') out.v2 = path;
    else for (const c of controllers.split(',')) out.v1.set(c, path);
  }
  return out;
}

function under(mount: Mount, path: string): string | undefined {
  if (mount.root === '/') return mount.mountPoint.replace(/\/$/, '') + path;
  if (path === mount.root) return mount.mountPoint;
  if (path.startsWith(`${mount.root}/`)) return mount.mountPoint + path.slice(mount.root.length);
  return undefined;
}

/**
 * The directories of a process's cgroups: v1 when its cpuacct and memory
 * controllers are on v1 hierarchies (hybrid hosts included), else the unified one.
 * undefined when they are not visible here.
 */
export function resolveCgroup(mounts: CgroupMounts, proc: ReturnType<typeof parseProcCgroup>): ContainerCgroup | undefined {
  const dirs: Partial<Record<V1Controller, string>> = {};
  for (const c of V1_CONTROLLERS) {
    const mount = mounts.v1.get(c);
    const path = proc.v1.get(c);
    const dir = mount && path !== undefined ? under(mount, path) : undefined;
    if (dir) dirs[c] = dir;
  }
  if (dirs.cpuacct && dirs.memory) return { version: 1, dirs: { ...dirs, cpuacct: dirs.cpuacct, memory: dirs.memory } };
  if (mounts.v2 && proc.v2 !== undefined && mounts.v1.size === 0) {
    const dir = under(mounts.v2, proc.v2);
    if (dir) return { version: 2, dir };
  }
  return undefined;
}

/** The path that names the container (a guard against a reused PID). */
export function cgroupPath(cg: ContainerCgroup): string {
  return cg.version === 1 ? cg.dirs.cpuacct : cg.dir;
}
