/**
 * The wiring between test Docker hosts on one machine: a "top-of-rack switch" (a
 * Linux bridge inside its own network namespace, so the root namespace's networking
 * is never touched) and one veth "cable" per host, `eth0` in the host's namespace,
 * the other end a port of the bridge. Everything here lives in namespaces we create;
 * deleting the switch namespace destroys the bridge and every cable plugged into it.
 *
 * Commands use `ip -n NS …` for ip itself and `nsenter --net=…` for anything else
 * (never `ip netns exec`, see DESIGN.md).
 */
import { existsSync } from 'node:fs';
import { must, quiet, run, type RunResult } from './exec.js';

/** A Linux bridge in its own network namespace. */
export interface Switch {
  netns: string;
  bridge: string;
}

/** A host's cable to a switch. */
export interface Uplink extends Switch {
  /** The switch-side end of the veth pair, inside the switch namespace (at most 15 characters). */
  port: string;
  /** The host's address on its `eth0`, with prefix length: 10.213.7.11/24. */
  cidr: string;
}

/** The name of a network interface: at most 15 characters, no '/', ':' or blanks. */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function netnsPath(netns: string): string {
  return `/run/netns/${netns}`;
}

export function netnsExists(netns: string): boolean {
  return existsSync(netnsPath(netns));
}

/** Runs a command in a network namespace (and only that: mounts, pids and /sys stay the machine's). */
export function inNetns(netns: string, cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  return run('nsenter', [`--net=${netnsPath(netns)}`, cmd, ...args], opts);
}

/** Creates the namespace with its loopback up and a bridge (up) carrying `cidr` (the subnet's gateway address). */
export async function createSwitch(sw: Switch, cidr: string): Promise<void> {
  if (!IFNAME.test(sw.bridge)) throw new Error(`bad bridge name "${sw.bridge}"`);
  await must('ip', ['netns', 'add', sw.netns]);
  await must('ip', ['-n', sw.netns, 'link', 'set', 'lo', 'up']);
  await must('ip', ['-n', sw.netns, 'link', 'add', sw.bridge, 'type', 'bridge']);
  await must('ip', ['-n', sw.netns, 'addr', 'add', cidr, 'dev', sw.bridge]);
  await must('ip', ['-n', sw.netns, 'link', 'set', sw.bridge, 'up']);
}

/** Cables a host namespace to the switch: `eth0` (with the address) in the host, `port` on the bridge; both up. */
export async function plugIn(hostNetns: string, uplink: Uplink): Promise<void> {
  if (!IFNAME.test(uplink.port)) throw new Error(`bad switch port name "${uplink.port}" (at most 15 characters)`);
  await must('ip', ['-n', hostNetns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', uplink.port, 'netns', uplink.netns]);
  await must('ip', ['-n', uplink.netns, 'link', 'set', uplink.port, 'master', uplink.bridge]);
  await must('ip', ['-n', uplink.netns, 'link', 'set', uplink.port, 'up']);
  await must('ip', ['-n', hostNetns, 'addr', 'add', uplink.cidr, 'dev', 'eth0']);
  await must('ip', ['-n', hostNetns, 'link', 'set', 'eth0', 'up']);
}

/** Shuts or opens the host's port on the switch, like pulling the cable: the host keeps its address, eth0 loses carrier. */
export async function setPort(uplink: Uplink, up: boolean): Promise<void> {
  await must('ip', ['-n', uplink.netns, 'link', 'set', uplink.port, up ? 'up' : 'down']);
}

let pingCommand: string[] | undefined;

/** `ping` from iputils where installed, else busybox's (busybox-static is a dependency of the project). */
function pingCmd(): string[] {
  pingCommand ??= ['/bin/ping', '/usr/bin/ping'].find((p) => existsSync(p)) ? ['ping'] : ['busybox', 'ping'];
  return pingCommand;
}

/** One ICMP echo from inside `netns` to `address`, waiting at most a second. */
export async function ping(netns: string, address: string): Promise<boolean> {
  const [cmd, ...pre] = pingCmd();
  const r = await inNetns(netns, cmd as string, [...pre, '-c', '1', '-W', '1', address], { timeoutMs: 5_000 });
  return r.code === 0;
}

/** Deletes a namespace if it exists (best effort, synchronous: usable in cleanup paths). */
export function deleteNetns(netns: string): void {
  if (netnsExists(netns)) quiet('ip', ['netns', 'del', netns]);
}

/** Names of the network namespaces on this machine. */
export function listNetns(): string[] {
  return quiet('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}
