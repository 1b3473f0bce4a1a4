/**
 * The platform registry as the server runs it: certificates (pki.ts), the token
 * issuer (token-service.ts) and the Distribution process (distribution.ts).
 *
 *   docker login/push/pull ──TLS──▶ Distribution (<address>) ──401 + realm──▶ client
 *   client ──GET <realm>?service&scope (Basic: any user, a Wharf token)──▶ wharf-server
 *          ◀── JWT (ES256, kid = token key) ── access.ts decides the actions per scope
 *
 * With `mirrors`, a pull-through mirror per upstream registry runs beside it (mirror.ts).
 * For the image routes it also holds a client of the registry's API (v2-client.ts),
 * the garbage collector (gc.ts) and the secret of the registry's notifications.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { Store } from '@wharf/store';
import type { RegistryInfo } from '@wharf/types';
import { ensurePki, type RegistryPki } from './pki.js';
import { DistributionProcess, splitHostPort, storageRoot } from './distribution.js';
import { planMirrors, type MirrorUpstream, type RegistryMirror } from './mirror.js';
import { RegistryTokenService } from './token-service.js';
import { RegistryV2Client } from './v2-client.js';
import { RegistryGc, WriteGate, collectGarbage } from './gc.js';
import type { GcSchedule } from './gc-schedule.js';

export const REGISTRY_SERVICE = 'wharf-registry';
export const REGISTRY_ISSUER = 'wharf-server';

export interface PlatformRegistryOptions {
  /** Certificates, config and storage: <data-dir>/registry. */
  dir: string;
  /** HOST:PORT in image names and the certificate's SANs. */
  address: string;
  /** HOST:PORT the registry listens on. */
  listen: string;
  /** More host names and IPs for the certificate. */
  sans?: string[];
  /** The docker-registry binary. */
  binary: string;
  /** Upstream registries to run pull-through mirrors of (mirror.ts). */
  mirrors?: MirrorUpstream[];
  /** When garbage is collected (gc.ts); default off. */
  gc?: GcSchedule;
}

/** What start() may be given besides the token URL. */
export interface RegistryStartOptions {
  /** This server's URL for the registry's notifications (notifications.ts). */
  notifications?: string;
  /** The store: garbage collection keeps the manifests sets name by digest. Without it, nothing is collected. */
  store?: Store;
}

/** What the image routes use of the registry (api/images.ts). */
export interface ImageRegistrySource {
  /** HOST:PORT in image names. */
  readonly address: string;
  readonly client: RegistryV2Client;
  /** Wharf's writes (uploads, tags, removals) against garbage collection. */
  readonly gate: WriteGate;
  readonly gc: RegistryGc;
  /** What the registry's notifications carry as their bearer token. */
  readonly notificationSecret: string;
  /** The filesystem driver's root (untag, manifest revisions). */
  readonly storageRoot: string;
  /** Where uploads keep files that come before an archive's metadata. */
  readonly spoolDir: string;
}

export class PlatformRegistry implements ImageRegistrySource {
  private process: DistributionProcess | undefined;
  private realmUrl: string | undefined;
  private readonly mirrors: RegistryMirror[];
  readonly client: RegistryV2Client;
  readonly gate = new WriteGate();
  readonly gc: RegistryGc;
  readonly notificationSecret = randomBytes(32).toString('base64url');
  private store: Store | undefined;

  private constructor(
    private readonly opts: PlatformRegistryOptions,
    private readonly pki: RegistryPki,
    readonly tokens: RegistryTokenService,
    private readonly log: Logger,
  ) {
    this.mirrors = planMirrors(opts.mirrors ?? [], opts, log);
    const listen = splitHostPort(opts.listen, '--registry-listen');
    const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
    this.client = new RegistryV2Client({ host, port: listen.port, ca: pki.caCertPem, tokens });
    this.gc = new RegistryGc(opts.gc ?? { kind: 'off' }, () => this.collectGarbage());
  }

  get address(): string {
    return this.opts.address;
  }

  get storageRoot(): string {
    return storageRoot(this.opts.dir);
  }

  get spoolDir(): string {
    return join(this.opts.dir, 'uploads');
  }

  /** Makes the certificates (what is missing) and the token issuer; the registry itself starts with start(). */
  static async prepare(opts: PlatformRegistryOptions, log: Logger): Promise<PlatformRegistry> {
    const address = splitHostPort(opts.address, '--registry-addr');
    const listen = splitHostPort(opts.listen, '--registry-listen');
    const wildcard = listen.host === '0.0.0.0' || listen.host === '::';
    const names = [address.host, ...(wildcard ? [] : [listen.host]), '127.0.0.1', 'localhost', ...(opts.sans ?? [])];
    const pki = await ensurePki(opts.dir, names);
    if (pki.issued.length > 0) log.info({ issued: pki.issued, dir: opts.dir, names }, 'registry certificates made');
    const tokens = new RegistryTokenService({ service: REGISTRY_SERVICE, issuer: REGISTRY_ISSUER, key: pki.tokenKey, keyId: pki.tokenKeyId });
    return new PlatformRegistry(opts, pki, tokens, log);
  }

  get caPem(): string {
    return this.pki.caCertPem;
  }

  /**
   * Starts Distribution, sending clients for tokens to `realm` (this server's token URL)
   * and, with `notifications` (this server's events URL), its push and delete events there.
   */
  async start(realm: string, { notifications, store }: RegistryStartOptions = {}): Promise<void> {
    this.realmUrl = realm;
    this.store = store;
    await rm(this.spoolDir, { recursive: true, force: true });
    this.process = new DistributionProcess({
      binary: this.opts.binary,
      caPem: this.pki.caCertPem,
      config: {
        dir: this.opts.dir, listen: this.opts.listen, realm, service: REGISTRY_SERVICE, issuer: REGISTRY_ISSUER,
        serverCertPath: this.pki.serverCertPath, serverKeyPath: this.pki.serverKeyPath, tokenCertPath: this.pki.tokenCertPath,
        ...(notifications ? { notifications: { url: notifications, secret: this.notificationSecret } } : {}),
      },
    }, this.log);
    await this.process.start();
    this.gc.start();
    this.log.info({ address: this.opts.address, listen: this.opts.listen, realm }, 'platform registry running');
    const { serverCertPath, serverKeyPath, tokenCertPath, caCertPem } = this.pki;
    try {
      for (const m of this.mirrors) {
        await m.start({ binary: this.opts.binary, caPem: caCertPem, realm, service: REGISTRY_SERVICE, issuer: REGISTRY_ISSUER, serverCertPath, serverKeyPath, tokenCertPath });
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  info(): RegistryInfo {
    return {
      enabled: true,
      address: this.opts.address,
      service: REGISTRY_SERVICE,
      running: this.process?.running ?? false,
      ca: this.pki.caCertPem,
      ...(this.realmUrl ? { realm: this.realmUrl } : {}),
      ...(this.mirrors.length > 0 ? { mirrors: this.mirrors.map((m) => m.info()) } : {}),
    };
  }

  async stop(): Promise<void> {
    this.gc.stop();
    await Promise.all([this.process?.stop(), ...this.mirrors.map((m) => m.stop())]);
  }

  /** One garbage collection (gc.ts), the registry read-only meanwhile. */
  private async collectGarbage() {
    const { process, opts, store } = this;
    if (!process || !store) throw new Error('the registry is not running with a store; nothing to collect');
    return collectGarbage({
      client: this.client,
      store,
      address: opts.address,
      storageRoot: this.storageRoot,
      readOnly: (on) => process.restart({ readonly: on }),
      collect: async () => (await promisify(execFile)(opts.binary, ['garbage-collect', process.configPath], { maxBuffer: 256 * 1024 * 1024 })).stdout,
    }, this.gate, this.log);
  }
}

/** Where the registry listens unless told: the server's listen address, the registry address's port. */
export function defaultListen(serverHost: string, address: string): string {
  return `${bracketed(serverHost)}:${splitHostPort(address, '--registry-addr').port}`;
}

function bracketed(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/**
 * The token URL Docker clients are sent to: this server's port on the registry
 * address's host (the registry runs beside the server, so the name reaching one
 * reaches the other).
 */
export function defaultRealm(address: string, serverPort: number): string {
  const { host } = splitHostPort(address, '--registry-addr');
  return `http://${bracketed(host)}:${serverPort}/v1/registry/token`;
}
