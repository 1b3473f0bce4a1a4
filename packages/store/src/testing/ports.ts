/** TCP ports for the servers that tests and benchmarks start (wharf-server, etcd, registries). */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// The kernel hands ports of its ephemeral range (ip_local_port_range) to every outgoing
// connection. A port that was free when a test asked for it can be taken that way before
// the child process it is meant for listens on it (EADDRINUSE, and a server that never
// comes up), while hosts, agents and dockerds of tests running alongside connect out all
// the time. So ports are drawn below that range, where the kernel never hands them out.
const LOW = 10_000;

function ephemeralStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > LOW + 1_000 ? start : 32_768;
  } catch {
    return 32_768;
  }
}

const HIGH = ephemeralStart();
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    // The wildcard address conflicts with a listener on any address, 127.0.0.1 included.
    s.listen({ port, host: '0.0.0.0', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * A TCP port nobody listens on right now, below the kernel's ephemeral range, and not
 * handed out before by this process. Random, so that test processes running side by
 * side rarely draw the same one.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free TCP port found in ${LOW}-${HIGH - 1}`);
}
