/**
 * Pull-through mirrors: one CNCF Distribution per upstream registry in proxy mode
 * (`proxy.remoteurl`, the upstream's credentials), run by wharf-server like the
 * platform registry — its own port, the registry's TLS certificate (same CA, same
 * host name) and the same token issuer, so hosts pull from it with their credentials.
 *
 *   agent: <upstream>/team/app:1 ──rewritten──▶ <mirror address>/team/app:1 ──▶ mirror
 *   mirror: has it (manifest by digest, blobs) ──▶ serves it; else fetches it from the
 *           upstream and keeps it; a tag is asked upstream first, the kept one when the
 *           upstream does not answer
 *
 * The mirror itself only reads: Distribution refuses pushes in proxy mode.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RegistryMirror as MirrorInfo } from '@wharf/types';
import { DistributionProcess, splitHostPort, type DistributionConfig } from './distribution.js';

/** An upstream registry to mirror (`wharf-server --mirror URL[=PORT]`). */
export interface MirrorUpstream {
  /** The upstream's base URL, without credentials: http(s)://HOST[:PORT] */
  url: string;
  /** HOST[:PORT] as image names spell the upstream (the URL's host). */
  name: string;
  username?: string;
  password?: string;
  /** The mirror's port; default: the registry's port + 1 + its position among the mirrors. */
  port?: number;
}

/** `https://user:secret@10.1.2.3:5000=5001` → the upstream; throws a message for people. */
export function parseMirror(text: string): MirrorUpstream {
  const bad = (why: string) => new Error(`--mirror: "${redact(text)}" ${why} (expected UPSTREAM_URL[=PORT], e.g. https://10.1.2.3:5000=5001)`);
  const m = /^(.*?)(?:=(\d{1,5}))?$/.exec(text.trim());
  const port = m?.[2] !== undefined ? Number(m[2]) : undefined;
  if (port !== undefined && !(port > 0 && port <= 65535)) throw bad('has no valid port');
  let url: URL;
  try {
    url = new URL(m?.[1] ?? '');
  } catch {
    throw bad('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('is not an http(s) URL');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) throw bad('has a path: give the registry\'s base URL');
  if (!url.host) throw bad('has no host');
  return {
    url: `${url.protocol}//${url.host}`,
    name: url.host,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(port !== undefined ? { port } : {}),
  };
}

/** Every `--mirror` (repeated, or comma-separated in WHARF_MIRRORS); one mirror per upstream. */
export function parseMirrors(items: string[]): MirrorUpstream[] {
  const mirrors = items.flatMap((i) => i.split(',')).map((i) => i.trim()).filter(Boolean).map(parseMirror);
  const seen = new Set<string>();
  for (const m of mirrors) {
    if (seen.has(m.name)) throw new Error(`--mirror: upstream ${m.name} is given twice`);
    seen.add(m.name);
  }
  return mirrors;
}

/** The URL with its password hidden, for messages. */
function redact(text: string): string {
  return text.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

/** What a mirror shares with the platform registry: certificate, token issuer, binary. */
export type SharedRegistryConfig = Omit<DistributionConfig, 'dir' | 'listen' | 'proxy'> & { binary: string; caPem: string };

export class RegistryMirror {
  private process: DistributionProcess | undefined;

  constructor(
    readonly upstream: MirrorUpstream,
    /** HOST:PORT hosts pull from. */
    readonly address: string,
    private readonly listen: string,
    /** Config and cache: <registry dir>/mirrors/<upstream>. */
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** The directory of an upstream's mirror below the registry's. */
  static dirFor(registryDir: string, upstream: MirrorUpstream): string {
    return join(registryDir, 'mirrors', upstream.name.replace(/[^A-Za-z0-9.-]/g, '_'));
  }

  async start(shared: SharedRegistryConfig): Promise<void> {
    const { binary, caPem, ...config } = shared;
    const { url, username, password } = this.upstream;
    this.process = new DistributionProcess({
      binary,
      caPem,
      config: {
        ...config, dir: this.dir, listen: this.listen,
        proxy: { remoteurl: url, ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) },
      },
    }, this.log);
    await this.process.start();
    this.log.info({ upstream: url, address: this.address, listen: this.listen }, 'registry mirror running');
  }

  info(): MirrorInfo {
    return { upstream: this.upstream.name, address: this.address, running: this.process?.running ?? false };
  }

  async stop(): Promise<void> {
    await this.process?.stop();
  }
}

/**
 * The mirrors of a platform registry at `address` listening on `listen`: each on its
 * port (default: the registry's port + 1 + its position), at the address's host and
 * the listen address's host, so the registry's certificate is valid for it too.
 */
export function planMirrors(upstreams: MirrorUpstream[], o: { address: string; listen: string; dir: string }, log: Logger): RegistryMirror[] {
  const address = splitHostPort(o.address, '--registry-addr');
  const listen = splitHostPort(o.listen, '--registry-listen');
  const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
  const taken = new Set([address.port, listen.port]);
  return upstreams.map((u, i) => {
    if (u.name === o.address) throw new Error(`--mirror: ${u.name} is the platform registry itself`);
    const port = u.port ?? address.port + 1 + i;
    if (taken.has(port)) throw new Error(`--mirror ${u.name}: port ${port} is taken by the registry or another mirror (give one: --mirror URL=PORT)`);
    taken.add(port);
    return new RegistryMirror(u, `${bracket(address.host)}:${port}`, `${bracket(listen.host)}:${port}`, RegistryMirror.dirFor(o.dir, u), log.child({ mirror: u.name }));
  });
}
