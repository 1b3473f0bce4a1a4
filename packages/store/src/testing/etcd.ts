/**
 * Real etcd for tests and benchmarks (`@wharf/store/testing`): one member or a
 * cluster of several, on free loopback ports, in a temporary directory. Each
 * member can be killed and started again on the same ports and data.
 * `stop()` ends every member and removes the directory; members still running
 * when the process exits are killed then.
 *
 *   const etcd = await startEtcd({ members: 3 });
 *   const store = await EtcdStore.open({ hosts: etcd.endpoints });
 *   await etcd.members[0].kill();   // SIGKILL, waits for the exit
 *   await (await etcd.leader()).kill();
 *   await etcd.members[0].start();  // back, healthy
 *   etcd.members[1].pause();        // SIGSTOP: hangs, connections stay open
 *   etcd.members[1].resume();
 *   etcd.partition(etcd.members[2]); // cut off from the other members (partitionable, root)
 *   etcd.heal();
 *   await etcd.stop();
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export { freePort } from './ports.js';

/** The etcd binary: $WHARF_ETCD, else Debian's etcd-server package. */
export const ETCD_BINARY = process.env.WHARF_ETCD ?? '/usr/bin/etcd';
const NOT_INSTALLED = `etcd is not installed at ${ETCD_BINARY} (apt-get install etcd-server, or set WHARF_ETCD)`;

/** Why etcd tests cannot run here, or false. In CI they always run (a missing etcd fails them). */
export function etcdSkipReason(): string | false {
  return existsSync(ETCD_BINARY) || process.env.CI ? false : NOT_INSTALLED;
}

export interface EtcdTestMember {
  readonly name: string;
  /** HOST:PORT of its client endpoint. */
  readonly endpoint: string;
  readonly running: boolean;
  /** Sends `signal` (default SIGKILL) and waits until the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and data, and waits until it is healthy. */
  start(): Promise<void>;
  /** SIGSTOP: the process stays, its connections stay open, and nothing answers (a hung or cut-off member). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
}

export interface EtcdTestCluster {
  /** Every member's HOST:PORT. */
  readonly endpoints: string[];
  /** `etcd://` URL of the cluster, for `--store`. */
  readonly url: string;
  readonly members: EtcdTestMember[];
  readonly dir: string;
  /** The member that leads now, as the running members say; rejects when none does. */
  leader(): Promise<EtcdTestMember>;
  /**
   * Cuts `member` off from the other members: the peer traffic between them is dropped
   * both ways (iptables), while clients still reach every member. Only with `partitionable`.
   */
  partition(member: EtcdTestMember): void;
  /** Ends every partition. */
  heal(): void;
  /** Kills every member and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** PEM files: etcd serves TLS with `cert`/`key` and asks clients for a certificate signed by `ca`. */
export interface EtcdTestTls {
  ca: string;
  cert: string;
  key: string;
}

export interface StartEtcdOptions {
  /** Default 1. */
  members?: number;
  /** Client connections over TLS with client certificates (the same certificate serves as a client's). */
  tls?: EtcdTestTls;
  /** How long to wait for the cluster to become healthy. Default 60 s. */
  timeoutMs?: number;
  /**
   * Lets partition() cut members off: each member runs as a user of its own (uid
   * 61000 + its index), so iptables can tell its peer connections from the others'.
   * Needs root and iptables.
   */
  partitionable?: boolean;
}

/** Whether partitionable clusters can run here: root, and iptables with the owner match. */
export function partitionSkipReason(): string | false {
  if (process.getuid?.() !== 0) return 'partitioning etcd members needs root (iptables)';
  try {
    execFileSync('iptables', ['-w', '-m', 'owner', '--help'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'partitioning etcd members needs iptables with the owner match';
  }
}

/** Marks the iptables rules of this process's partitions, so they can all be removed. */
const PARTITION_TAG = `wharf-etcd-${process.pid}`;
/** The connection mark of this process's cut-off members: another process's heal leaves them alone. */
const PARTITION_MARK = `0x${(0x5e000000 + (process.pid % 0x1000000)).toString(16)}`;
let partitioned = false;

function iptables(args: string[]): void {
  execFileSync('iptables', ['-w', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Removes every rule this process added (safe when there is none). */
function healAll(): void {
  if (process.getuid?.() !== 0) return;
  let rules: string;
  try {
    rules = execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8' });
  } catch {
    return;
  }
  for (const rule of rules.split('\n')) {
    if (!rule.startsWith('-A ') || !rule.includes(PARTITION_TAG)) continue;
    // The rule as listed, with -A turned into -D; its arguments never hold spaces.
    iptables(['-D', ...rule.slice(3).split(' ').map((a) => a.replace(/^"(.*)"$/, '$1'))]);
  }
}

/**
 * Drops the peer traffic between the member running as `uid` (peer port `port`) and the
 * others (`peers`). Connections the member dials are marked (owner match) and dropped both
 * ways; connections to its peer port are dropped on the way in and its answers on the way out.
 */
function cutOff(uid: number, port: number, peers: number[]): void {
  const tag = ['-m', 'comment', '--comment', PARTITION_TAG];
  iptables(['-I', 'OUTPUT', '-p', 'tcp', '-m', 'owner', '--uid-owner', String(uid), '-m', 'multiport', '--dports', peers.join(','), ...tag, '-j', 'CONNMARK', '--set-mark', PARTITION_MARK]);
  iptables(['-A', 'OUTPUT', '-p', 'tcp', '-m', 'connmark', '--mark', PARTITION_MARK, ...tag, '-j', 'DROP']);
  iptables(['-A', 'INPUT', '-p', 'tcp', '-m', 'connmark', '--mark', PARTITION_MARK, ...tag, '-j', 'DROP']);
  iptables(['-A', 'INPUT', '-p', 'tcp', '--dport', String(port), ...tag, '-j', 'DROP']);
  iptables(['-A', 'OUTPUT', '-p', 'tcp', '--sport', String(port), ...tag, '-j', 'DROP']);
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  if (partitioned) healAll();
});

/** The body of the member's answer to `path` (POST when a body is given), or undefined when it does not answer. */
function ask(endpoint: string, tls: EtcdTestTls | undefined, path: string, body?: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const onResponse = (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
    };
    const options: RequestOptions = { method: body === undefined ? 'GET' : 'POST', timeout: 2_000 };
    const req = tls
      ? httpsRequest(`https://${endpoint}${path}`, { ...options, ca: readFileSync(tls.ca), cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, onResponse)
      : httpRequest(`http://${endpoint}${path}`, options, onResponse);
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end(body);
  });
}

/** True when the member answers /health with "true" (it has a leader and serves reads). */
async function healthy(endpoint: string, tls: EtcdTestTls | undefined): Promise<boolean> {
  return /"health":\s*"true"/.test((await ask(endpoint, tls, '/health')) ?? '');
}

/** Whether the member says it leads (etcd's JSON gateway to Maintenance.Status). */
async function leads(endpoint: string, tls: EtcdTestTls | undefined): Promise<boolean> {
  const text = await ask(endpoint, tls, '/v3/maintenance/status', '{}');
  if (!text) return false;
  const status = JSON.parse(text) as { header?: { member_id?: string }; leader?: string };
  return status.leader !== undefined && status.leader === status.header?.member_id;
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-10).join('\n');
  } catch {
    return '(no log)';
  }
}

class Member implements EtcdTestMember {
  private child: ChildProcess | undefined;
  readonly endpoint: string;
  readonly log: string;

  constructor(
    readonly name: string,
    private readonly dir: string,
    clientPort: number,
    readonly peerUrl: string,
    private readonly initialCluster: string,
    private readonly token: string,
    private readonly timeoutMs: number,
    private readonly tls: EtcdTestTls | undefined,
    /** The uid it runs as (partitionable clusters); undefined: this process's. */
    readonly uid: number | undefined,
  ) {
    this.endpoint = `127.0.0.1:${clientPort}`;
    this.log = join(dir, `${name}.log`);
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Spawns the process without waiting for it to be healthy (a cluster's members must start together). */
  spawn(): void {
    if (this.child) return;
    if (this.uid !== undefined) {
      mkdirSync(join(this.dir, this.name), { recursive: true, mode: 0o700 });
      chownSync(join(this.dir, this.name), this.uid, this.uid);
    }
    const out = openSync(this.log, 'a');
    const scheme = this.tls ? 'https' : 'http';
    const tlsFlags = this.tls
      ? ['--cert-file', this.tls.cert, '--key-file', this.tls.key, '--trusted-ca-file', this.tls.ca, '--client-cert-auth']
      : [];
    const child = spawn(ETCD_BINARY, [
      '--name', this.name,
      '--data-dir', join(this.dir, this.name),
      '--listen-client-urls', `${scheme}://${this.endpoint}`,
      '--advertise-client-urls', `${scheme}://${this.endpoint}`,
      '--listen-peer-urls', this.peerUrl,
      '--initial-advertise-peer-urls', this.peerUrl,
      '--initial-cluster', this.initialCluster,
      '--initial-cluster-token', this.token,
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      '--log-level', 'warn',
      ...tlsFlags,
    ], { stdio: ['ignore', out, out], ...(this.uid !== undefined ? { uid: this.uid, gid: this.uid } : {}) });
    closeSync(out);
    running.add(child);
    this.child = child;
    const gone = () => {
      running.delete(child);
      if (this.child === child) this.child = undefined;
    };
    child.once('exit', gone);
    child.once('error', gone); // could not be started; waitHealthy reports it
  }

  async waitHealthy(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while (!(await healthy(this.endpoint, this.tls))) {
      if (!this.child) throw new Error(`etcd ${this.name} exited while starting:\n${logTail(this.log)}`);
      if (Date.now() > deadline) throw new Error(`etcd ${this.name} not healthy after ${this.timeoutMs} ms:\n${logTail(this.log)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async start(): Promise<void> {
    this.spawn();
    await this.waitHealthy();
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(force);
  }
}

/** Starts etcd (one member, or `members` of one cluster) and waits until every member is healthy. */
export async function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdTestCluster> {
  if (!existsSync(ETCD_BINARY)) throw new Error(NOT_INSTALLED);
  const count = opts.members ?? 1;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), 'wharf-etcd-'));
  const members: Member[] = [];
  const stop = async () => {
    await Promise.all(members.map((m) => m.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (opts.partitionable) chmodSync(dir, 0o711);
    const ports: [number, number][] = [];
    for (let i = 0; i < count; i++) ports.push([await freePort(), await freePort()]);
    const names = ports.map((_, i) => `m${i}`);
    const initialCluster = ports.map(([, peer], i) => `${names[i]}=http://127.0.0.1:${peer}`).join(',');
    const token = `wharf-test-${process.pid}-${Date.now()}`;
    ports.forEach(([client, peer], i) => {
      members.push(new Member(names[i] ?? `m${i}`, dir, client, `http://127.0.0.1:${peer}`, initialCluster, token, timeoutMs, opts.tls, opts.partitionable ? 61_000 + i : undefined));
    });
    for (const m of members) m.spawn();
    for (const m of members) await m.waitHealthy();
  } catch (err) {
    await stop();
    throw err;
  }
  const endpoints = members.map((m) => m.endpoint);
  const leader = async () => {
    for (const m of members) if (m.running && (await leads(m.endpoint, opts.tls))) return m;
    throw new Error('no etcd member leads');
  };
  const peerPort = (m: Member) => Number(new URL(m.peerUrl).port);
  const partition = (member: EtcdTestMember) => {
    const m = members.find((x) => x === member);
    if (!m || m.uid === undefined) throw new Error('partition() needs a member of a cluster started with partitionable: true');
    partitioned = true;
    cutOff(m.uid, peerPort(m), members.filter((x) => x !== m).map(peerPort));
  };
  const heal = () => {
    if (partitioned) healAll();
  };
  return {
    endpoints, url: `etcd://${endpoints.join(',')}`, members, dir, leader, partition, heal,
    stop: async () => {
      heal();
      await stop();
    },
  };
}
