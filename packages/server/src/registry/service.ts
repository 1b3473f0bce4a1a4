/**
 * The platform registry as the server runs it: certificates (pki.ts), the token
 * issuer (token-service.ts) and the Distribution process (distribution.ts).
 *
 *   docker login/push/pull ──TLS──▶ Distribution (<address>) ──401 + realm──▶ client
 *   client ──GET <realm>?service&scope (Basic: any user, a Wharf token)──▶ wharf-server
 *          ◀── JWT (ES256, kid = token key) ── access.ts decides the actions per scope
 */
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { RegistryInfo } from '@wharf/types';
import { ensurePki, type RegistryPki } from './pki.js';
import { DistributionProcess, splitHostPort } from './distribution.js';
import { RegistryTokenService } from './token-service.js';

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
}

export class PlatformRegistry {
  private process: DistributionProcess | undefined;
  private realmUrl: string | undefined;

  private constructor(
    private readonly opts: PlatformRegistryOptions,
    private readonly pki: RegistryPki,
    readonly tokens: RegistryTokenService,
    private readonly log: Logger,
  ) {}

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

  /** Starts Distribution, sending clients for tokens to `realm` (this server's token URL). */
  async start(realm: string): Promise<void> {
    this.realmUrl = realm;
    this.process = new DistributionProcess({
      binary: this.opts.binary,
      caPem: this.pki.caCertPem,
      config: {
        dir: this.opts.dir, listen: this.opts.listen, realm, service: REGISTRY_SERVICE, issuer: REGISTRY_ISSUER,
        serverCertPath: this.pki.serverCertPath, serverKeyPath: this.pki.serverKeyPath, tokenCertPath: this.pki.tokenCertPath,
      },
    }, this.log);
    await this.process.start();
    this.log.info({ address: this.opts.address, listen: this.opts.listen, realm }, 'platform registry running');
  }

  info(): RegistryInfo {
    return {
      enabled: true,
      address: this.opts.address,
      service: REGISTRY_SERVICE,
      running: this.process?.running ?? false,
      ca: this.pki.caCertPem,
      ...(this.realmUrl ? { realm: this.realmUrl } : {}),
    };
  }

  async stop(): Promise<void> {
    await this.process?.stop();
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
