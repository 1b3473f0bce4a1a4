/**
 * HAProxy's runtime API over its unix socket: one command per connection, and
 * the parser of `show servers state`.
 */
import { connect } from 'node:net';

export type SlotState = 'ready' | 'drain' | 'maint';

export interface ServerState {
  backend: string;
  /** The slot's name, `s1` … `sN`. */
  server: string;
  addr: string;
  port: number;
  state: SlotState;
}

/** Sends one command and returns the whole answer. */
export function runtimeCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    let out = '';
    const timer = setTimeout(() => sock.destroy(new Error(`haproxy did not answer "${command}" within ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.end(`${command}\n`));
    sock.on('data', (d: string) => (out += d));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

// srv_admin_state bits (HAProxy's SRV_ADMF_*). CMAINT (0x04) only records that the
// config said `disabled`: it stays set after `state ready`, so it is not looked at.
const MAINT_BITS = 0x01 | 0x02 | 0x20 | 0x40;
const DRAIN_BITS = 0x08 | 0x10;

export function stateOfAdminBits(admin: number): SlotState {
  if (admin & MAINT_BITS) return 'maint';
  if (admin & DRAIN_BITS) return 'drain';
  return 'ready';
}

/** Parses `show servers state`: a version line, a `#` header naming the columns, one line per server. */
export function parseServersState(text: string): ServerState[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const header = lines.find((l) => l.startsWith('#'));
  if (!header) return [];
  const cols = header.slice(1).trim().split(/\s+/);
  const at = (name: string) => cols.indexOf(name);
  const [be, srv, addr, admin, port] = [at('be_name'), at('srv_name'), at('srv_addr'), at('srv_admin_state'), at('srv_port')];
  return lines
    .filter((l) => !l.startsWith('#') && /^\d+\s/.test(l))
    .map((l) => l.split(/\s+/))
    .filter((f) => f.length >= cols.length - 2)
    .map((f) => ({
      backend: f[be] ?? '',
      server: f[srv] ?? '',
      addr: f[addr] ?? '',
      port: Number(f[port] ?? 0),
      state: stateOfAdminBits(Number(f[admin] ?? 0)),
    }));
}

/** The commands that take one slot from `current` to `want` (none when equal). */
export function slotCommands(backend: string, server: string, current: ServerState | undefined, want: { addr: string; port: number; state: SlotState }): string[] {
  const name = `${backend}/${server}`;
  const commands: string[] = [];
  if (want.state !== 'maint' && (current?.addr !== want.addr || current?.port !== want.port)) commands.push(`set server ${name} addr ${want.addr} port ${want.port}`);
  if (current?.state !== want.state) commands.push(`set server ${name} state ${want.state}`);
  return commands;
}

/** A runtime answer is empty on success; anything else is HAProxy's complaint. */
export function isRuntimeError(answer: string): boolean {
  const text = answer.trim();
  return text !== '' && !/^IP changed from|^no need to change|port changed from/i.test(text);
}
