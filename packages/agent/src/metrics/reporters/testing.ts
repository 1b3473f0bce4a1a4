/** For the reporters' unit tests: a sample report and local servers that record what arrives. */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { MetricsReport } from '@wharf/types';
import type { ReporterLog } from './log.js';

export const T0 = Date.parse('2026-05-01T12:00:00.250Z');

export function sampleReport(): MetricsReport {
  const time = new Date(T0).toISOString();
  return {
    host: { time, cpu: 1.5, cpus: 2, memory: 1e9, memoryTotal: 4e9, load1: 0.5, load5: 0.4, load15: 0.3, uplinks: [{ name: 'eth0', rxBytes: 100, txBytes: 200, rxPackets: 1, txPackets: 2 }], containers: 2 },
    sets: [{
      tenant: 'default', appkey: 'com.x', id: '1', time,
      set: { cpu: 0.42, memory: 5e6, memoryLimit: 1e8, rxBytes: 10 },
      containers: { web: { cpu: 0.4, memory: 4e6 } },
      volumeUsed: 1024,
    }],
  };
}

export interface LogLine {
  level: 'info' | 'warn';
  fields: object;
  message: string;
}

export function recordingLog(): ReporterLog & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (fields, message) => void lines.push({ level: 'info', fields, message }),
    warn: (fields, message) => void lines.push({ level: 'warn', fields, message }),
  };
}

export async function waitUntil(what: string, probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Listens on 127.0.0.1:`port` (0: any free port); resolves with the port. */
async function listenOnLoopback(server: Server | HttpServer, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}

/** A TCP server on loopback keeping every byte received; `answer` may reply to what a connection sent so far. */
export class RecordingTcpServer {
  readonly received: Buffer[] = [];
  readonly sockets = new Set<Socket>();
  connections = 0;
  private server: Server | undefined;

  private constructor(public port: number, private readonly answer?: (sofar: Buffer, socket: Socket) => void) {}

  static async start(answer?: (sofar: Buffer, socket: Socket) => void, port = 0): Promise<RecordingTcpServer> {
    const s = new RecordingTcpServer(port, answer);
    await s.listen();
    return s;
  }

  get text(): string {
    return Buffer.concat(this.received).toString('utf8');
  }

  async listen(): Promise<void> {
    const server = createServer((socket) => {
      this.connections++;
      this.sockets.add(socket);
      let sofar = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        this.received.push(chunk);
        sofar = Buffer.concat([sofar, chunk]);
        this.answer?.(sofar, socket);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.port = await listenOnLoopback(server, this.port);
    this.server = server;
  }

  /** Stops listening and drops every connection (the server "goes away"); listen() brings it back on the same port. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** An HTTP server on loopback keeping every request; `status` decides the answer. */
export class RecordingHttpServer {
  readonly requests: RecordedRequest[] = [];
  private server: HttpServer | undefined;

  private constructor(public port: number, public status: (req: RecordedRequest) => number) {}

  static async start(status: (req: RecordedRequest) => number = () => 204): Promise<RecordingHttpServer> {
    const s = new RecordingHttpServer(0, status);
    await s.listen();
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(recorded);
        const status = this.status(recorded);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(status >= 400 ? JSON.stringify({ error: `refused with ${status}` }) : undefined);
      });
    });
    this.port = await listenOnLoopback(server, this.port);
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
