/**
 * Finds a /proc/<pid>/net/dev that shows a given network namespace — the Docker
 * host's (--netns), where the uplinks are. /proc/<pid>/net/dev shows the namespace
 * of process <pid>, so any process in that namespace will do (dockerd, containerd,
 * a shim); /sys/class/net would show the namespace sysfs was mounted in, the agent's.
 * The PID is found by comparing namespace inodes, and checked with one stat per
 * collection. The oldest process in the namespace is taken (dockerd, containerd),
 * not a passing one (runc, an `ip netns exec`); when it is gone another is looked for
 * at once. Only when none was found is the next scan a minute away.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { parsePidStat } from './procfs.js';

const RESCAN_MS = 60_000;

export class NetnsLocator {
  private pid: number | undefined;
  private lastScan = -Infinity;
  private readonly direct: string | undefined;

  /** `netns`: undefined for the agent's own namespace, else a namespace file (/run/netns/NAME, /proc/PID/ns/net). */
  constructor(
    private readonly netns: string | undefined,
    private readonly procRoot = '/proc',
  ) {
    const m = netns === undefined ? ['', 'self'] : /^\/proc\/(\d+|self)\/ns\/net$/.exec(netns);
    this.direct = m ? `${procRoot}/${m[1]}/net/dev` : undefined;
  }

  /** The net/dev file to read, or undefined when no process is in that namespace (looked for again after a minute). */
  async netDev(now = Date.now()): Promise<string | undefined> {
    if (this.direct) return this.direct;
    const target = await stat(this.netns as string).catch(() => undefined);
    if (!target) return undefined;
    if (this.pid !== undefined && (await this.inNamespace(this.pid, target))) return `${this.procRoot}/${this.pid}/net/dev`;
    const lostOne = this.pid !== undefined;
    this.pid = undefined;
    if (!lostOne && now - this.lastScan < RESCAN_MS) return undefined;
    this.lastScan = now;
    const inside: number[] = [];
    for (const name of await readdir(this.procRoot).catch(() => [] as string[])) {
      if (/^\d+$/.test(name) && (await this.inNamespace(Number(name), target))) inside.push(Number(name));
    }
    this.pid = await this.oldest(inside);
    return this.pid === undefined ? undefined : `${this.procRoot}/${this.pid}/net/dev`;
  }

  /** The process that started first, of those still there. */
  private async oldest(pids: number[]): Promise<number | undefined> {
    let best: { pid: number; start: number } | undefined;
    for (const pid of pids) {
      const text = await readFile(`${this.procRoot}/${pid}/stat`, 'utf8').catch(() => undefined);
      const start = text === undefined ? undefined : parsePidStat(text)?.start;
      if (start !== undefined && (!best || start < best.start)) best = { pid, start };
    }
    return best?.pid;
  }

  private async inNamespace(pid: number, target: { dev: number; ino: number }): Promise<boolean> {
    const s = await stat(`${this.procRoot}/${pid}/ns/net`).catch(() => undefined);
    return s !== undefined && s.ino === target.ino && s.dev === target.dev;
  }
}
