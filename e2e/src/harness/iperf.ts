/**
 * Throughput between two network namespaces with iperf3 (Debian's package, installed
 * by scripts/install-deps.sh): the server runs in one namespace for exactly one test,
 * the client in the other. A set's namespace is its infra container's
 * (/proc/<pid>/ns/net); a test host's is /run/netns/<name>.
 */
import { must, run, sleep } from './exec.js';

export interface IperfResult {
  /** What the receiver got, Mbit/s. */
  mbits: number;
  seconds: number;
}

let nextPort = 5301;

/**
 * Sends from `fromNs` to `toAddress` (an address of `toNs`) for `seconds` and returns
 * the receiver's rate. `reverse` makes the server send (so `toNs` → `fromNs`).
 */
export async function iperf(fromNs: string, toNs: string, toAddress: string, seconds = 3, opts: { reverse?: boolean } = {}): Promise<IperfResult> {
  const port = String(nextPort++);
  await must('nsenter', [`--net=${toNs}`, 'iperf3', '--server', '--one-off', '--daemon', '--port', port]);
  await sleep(300);
  const r = await run('nsenter', [`--net=${fromNs}`, 'iperf3', '--client', toAddress, '--port', port, '--time', String(seconds), '--json', ...(opts.reverse ? ['--reverse'] : [])], { timeoutMs: (seconds + 20) * 1000 });
  if (r.code !== 0) throw new Error(`iperf3 to ${toAddress}:${port} failed: ${(r.stdout + r.stderr).slice(-400)}`);
  const out = JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number; seconds: number } } };
  return { mbits: out.end.sum_received.bits_per_second / 1e6, seconds: out.end.sum_received.seconds };
}

/** The network namespace path of a running container (by its pid on this machine). */
export function containerNetns(pid: number): string {
  return `/proc/${pid}/ns/net`;
}
