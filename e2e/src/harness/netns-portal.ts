/**
 * Makes TCP ports of the root namespace's loopback reachable inside a test host's
 * network namespace, at an address of that namespace, the way a real host reaches the
 * machine running wharf-server and the registry over its network:
 *
 *   netns: dockerd ──TCP──▶ ADDRESS:PORT (portal-child, in the netns; ADDRESS/32 on its lo)
 *                              │ unix socket (the file system is shared)
 *   root:                   this process ──TCP──▶ 127.0.0.1:PORT
 *
 * The root namespace's networking is not touched. Bytes pass through unchanged, so TLS
 * is end to end. The child exits when its stdin closes (this process gone).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { must, quiet, stopChild } from './exec.js';

const CHILD = new URL('./portal-child.js', import.meta.url).pathname;

/**
 * Both ends close together: one that closes ends the other once what it sent is
 * written (destroying it at once would cut off the end of a response, which Docker
 * sees as a broken download); an error on either destroys both.
 */
export function splice(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  const follow = (other: Socket) => (hadError: boolean) => (hadError ? other.destroy() : other.end());
  a.once('error', () => b.destroy());
  b.once('error', () => a.destroy());
  a.once('close', follow(b));
  b.once('close', follow(a));
}

export class NetnsPortal {
  private constructor(
    private readonly netns: string,
    private readonly address: string,
    private readonly child: ChildProcess,
    private readonly servers: Server[],
    private readonly sockets: string[],
  ) {}

  /**
   * `address` (IPv4, no prefix) is added to the namespace's lo; `dir` holds the unix
   * sockets; `target`: the root namespace's loopback address the ports are on (default
   * 127.0.0.1).
   */
  static async open(o: { netns: string; address: string; ports: number[]; dir: string; target?: string }): Promise<NetnsPortal> {
    await must('ip', ['-n', o.netns, 'addr', 'add', `${o.address}/32`, 'dev', 'lo']);
    const servers: Server[] = [];
    const sockets: string[] = [];
    for (const port of o.ports) {
      const path = join(o.dir, `portal-${o.netns}-${port}.sock`);
      rmSync(path, { force: true });
      const server = createServer((conn) => splice(conn, connect(port, o.target ?? '127.0.0.1')));
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
      servers.push(server);
      sockets.push(path);
    }
    const args = o.ports.map((port, i) => `${port}=${sockets[i]}`);
    const child = spawn('nsenter', [`--net=/run/netns/${o.netns}`, process.execPath, CHILD, o.address, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const portal = new NetnsPortal(o.netns, o.address, child, servers, sockets);
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout?.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.includes('ready\n')) resolve();
        });
        child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
        child.once('exit', (code) => reject(new Error(`portal in ${o.netns} exited (${code}): ${err.trim()}`)));
      });
    } catch (e) {
      await portal.close();
      throw e;
    }
    return portal;
  }

  async close(): Promise<void> {
    this.child.stdin?.end();
    await stopChild(this.child, 'SIGTERM', 2_000);
    for (const s of this.servers) s.close();
    for (const p of this.sockets) rmSync(p, { force: true });
    quiet('ip', ['-n', this.netns, 'addr', 'del', `${this.address}/32`, 'dev', 'lo']);
  }
}
