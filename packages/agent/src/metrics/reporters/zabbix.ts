/**
 * Zabbix sender (trapper) protocol: one TCP connection per send carrying
 * "ZBXD" 0x01, the JSON's length (8 bytes, little-endian) and
 * {"request":"sender data","data":[{host,key,value,clock,ns},…]}; the server answers
 * in the same framing with {"response":"success","info":"processed: N; failed: M; …"}.
 * Item keys are the point name with the series parts (series.ts) as one parameter,
 * joined by "/": wharf.set.cpu[default/com.x/1], wharf.container.memory[default/com.x/1/web],
 * wharf.host.uplink.rx_bytes[eth0], wharf.host.load1. The Zabbix host is the agent's host,
 * so it is not part of the key. Values for items Zabbix does not know count as failed
 * there: reported as refused, not retried.
 */
import { connect } from 'node:net';
import { inflateSync } from 'node:zlib';
import { RejectedPointsError, type MetricPoint, type Reporter, type SendResult } from './reporter.js';
import { seriesParts } from './series.js';

export interface ZabbixOptions {
  host: string;
  port: number;
  /** The host name items belong to in Zabbix. */
  zabbixHost: string;
  timeoutMs?: number;
}

const HEADER = Buffer.from('ZBXD', 'latin1');
const FLAG_PROTOCOL = 0x01;
const FLAG_COMPRESSED = 0x02;
const FLAG_LARGE = 0x04;

export function createZabbixReporter(o: ZabbixOptions): Reporter {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const inFlight = new Set<() => void>();
  return {
    name: `zabbix tcp://${o.host}:${o.port}`,
    async send(points) {
      const data = points.filter((p) => Number.isFinite(p.value)).map((p) => zabbixValue(p, o.zabbixHost));
      if (data.length === 0) return;
      const answer = await exchange(o.host, o.port, encodeFrame({ request: 'sender data', data }), timeoutMs, inFlight);
      return senderResult(answer);
    },
    async close() {
      for (const abort of inFlight) abort();
    },
  };
}

export function zabbixValue(p: MetricPoint, zabbixHost: string): { host: string; key: string; value: string; clock: number; ns: number } {
  const ms = Math.round(p.time);
  return { host: zabbixHost, key: zabbixKey(p), value: String(p.value), clock: Math.floor(ms / 1000), ns: (((ms % 1000) + 1000) % 1000) * 1_000_000 };
}

export function zabbixKey(p: MetricPoint): string {
  const parts = seriesParts(p.tags, false);
  return parts.length ? `${p.name}[${keyParameter(parts.join('/'))}]` : p.name;
}

/** A parameter with ",", "]" or '"' in it, or starting with a space, is quoted (and '"' escaped). */
function keyParameter(value: string): string {
  return /[,\]"]|^\s/.test(value) ? `"${value.replace(/"/g, '\\"')}"` : value;
}

export function encodeFrame(body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const header = Buffer.alloc(13);
  HEADER.copy(header, 0);
  header[4] = FLAG_PROTOCOL;
  header.writeBigUInt64LE(BigInt(json.length), 5);
  return Buffer.concat([header, json]);
}

/** The JSON of a complete frame, or undefined while more bytes are needed. */
export function decodeFrame(buf: Buffer): unknown {
  if (buf.length < 5) return undefined;
  if (!buf.subarray(0, 4).equals(HEADER)) throw new Error(`not a Zabbix answer: ${JSON.stringify(buf.subarray(0, 32).toString('latin1'))}`);
  const flags = buf[4] ?? 0;
  const large = (flags & FLAG_LARGE) !== 0;
  const headerSize = large ? 21 : 13;
  if (buf.length < headerSize) return undefined;
  const length = Number(large ? buf.readBigUInt64LE(5) : buf.readUInt32LE(5));
  if (buf.length < headerSize + length) return undefined;
  let payload = buf.subarray(headerSize, headerSize + length);
  if (flags & FLAG_COMPRESSED) payload = inflateSync(payload);
  return JSON.parse(payload.toString('utf8'));
}

export function senderResult(answer: unknown): SendResult {
  const a = answer as { response?: unknown; info?: unknown };
  const info = typeof a.info === 'string' ? a.info : '';
  if (a.response !== 'success') throw new RejectedPointsError(`Zabbix answered ${JSON.stringify(answer).slice(0, 300)}`);
  const failed = /failed:\s*(\d+)/.exec(info);
  return { refused: failed ? Number(failed[1]) : 0, detail: info };
}

function exchange(host: string, port: number, request: Buffer, timeoutMs: number, inFlight: Set<() => void>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    const chunks: Buffer[] = [];
    const finish = (err: Error | undefined, answer?: unknown) => {
      clearTimeout(timer);
      inFlight.delete(abort);
      s.destroy();
      if (err) reject(err);
      else resolve(answer);
    };
    const abort = () => finish(new Error('reporter closed'));
    const timer = setTimeout(() => finish(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    inFlight.add(abort);
    s.once('connect', () => s.write(request));
    s.on('data', (chunk) => {
      chunks.push(chunk);
      try {
        const answer = decodeFrame(Buffer.concat(chunks));
        if (answer !== undefined) finish(undefined, answer);
      } catch (err) {
        finish(err as Error);
      }
    });
    s.once('end', () => finish(new Error(`${host}:${port} closed the connection without a complete answer`)));
    s.once('error', (err) => finish(err));
  });
}
