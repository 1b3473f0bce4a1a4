/**
 * Graphite plaintext protocol over one kept TCP connection: `path value seconds\n`.
 * The path is [prefix.]name.<series parts> (see series.ts), each part made safe for a
 * path (anything but letters, digits, "_" and "-" becomes "_"):
 *   wharf.set.cpu.default.com_x.1   wharf.container.memory.default.com_x.1.web
 *   wharf.host.load1.h1             wharf.host.uplink.rx_bytes.h1.eth0
 * Plain paths rather than tagged series (name;tag=value): carbon stores those only
 * with graphite-web's tag database beside it, plain paths work with every carbon.
 * The protocol has no acknowledgement: what was written into a connection the server
 * dropped a moment before is lost; the next send connects again.
 */
import { connect, type Socket } from 'node:net';
import type { MetricPoint, Reporter } from './reporter.js';
import { seriesParts } from './series.js';

export interface GraphiteOptions {
  host: string;
  port: number;
  prefix?: string;
  timeoutMs?: number;
}

export function createGraphiteReporter(o: GraphiteOptions): Reporter {
  const timeoutMs = o.timeoutMs ?? 10_000;
  let socket: Socket | undefined;
  let connecting: Promise<Socket> | undefined;
  let closed = false;

  function connection(): Promise<Socket> {
    if (socket && !socket.destroyed) return Promise.resolve(socket);
    connecting ??= openSocket(o.host, o.port, timeoutMs).then((s) => {
      if (closed) {
        s.destroy();
        throw new Error('reporter closed');
      }
      socket = s;
      // The server closing its end (restart, idle timeout) makes the next send connect again.
      s.on('error', () => s.destroy());
      s.on('close', () => {
        if (socket === s) socket = undefined;
      });
      s.resume(); // carbon sends nothing; read to notice its end
      return s;
    }).finally(() => (connecting = undefined));
    return connecting;
  }

  return {
    name: `graphite tcp://${o.host}:${o.port}`,
    async send(points) {
      const payload = points.map((p) => graphiteLine(p, o.prefix)).join('');
      if (!payload) return;
      const s = await connection();
      await write(s, payload, timeoutMs);
    },
    async close() {
      closed = true;
      socket?.destroy();
      socket = undefined;
    },
  };
}

export function graphiteLine(p: MetricPoint, prefix?: string): string {
  if (!Number.isFinite(p.value)) return '';
  const path = [...(prefix ? [prefix] : []), p.name, ...seriesParts(p.tags, true).map(pathPart)].join('.');
  return `${path} ${p.value} ${Math.floor(p.time / 1000)}\n`;
}

function pathPart(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_') || '_';
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => s.destroy(new Error(`connecting to ${host}:${port} timed out after ${timeoutMs} ms`)), timeoutMs);
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    s.once('error', onError);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeListener('error', onError);
      s.setNoDelay(true);
      resolve(s);
    });
  });
}

/** Resolves once the payload is handed to the kernel; a peer that stops reading fails it after timeoutMs. */
function write(s: Socket, payload: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => s.destroy(new Error(`writing timed out after ${timeoutMs} ms`)), timeoutMs);
    const onClose = () => {
      clearTimeout(timer);
      reject(new Error('the connection closed while writing'));
    };
    s.once('close', onClose);
    s.write(payload, (err) => {
      clearTimeout(timer);
      s.removeListener('close', onClose);
      if (err) reject(err);
      else resolve();
    });
  });
}
