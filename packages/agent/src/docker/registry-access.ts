/**
 * The platform registry as this host uses it: the server tells its address and CA
 * (`GET /v1/registry`); the CA goes to Docker's `certs.d/<address>/ca.crt`, so dockerd
 * verifies the registry's TLS certificate with no --insecure-registry, and pulls of
 * images on that registry carry the host credentials: the shared join token as the
 * password, or, for a host that joined with a one-use token, its registry secret with
 * the host name as the user.
 * Asked again every minute (and with back-off until the first answer): a server that
 * moved the registry or made a new CA is followed.
 *
 * Mirrors (`mirrors` of the answer) are handled the same way (CA, credentials), and
 * `mirrorFor` tells the pulls which image names to fetch from a mirror instead.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { WharfError, imageRegistry, type RegistryInfo } from '@wharf/types';
import { Backoff, sleep } from '../backoff.js';
import { FailureLog } from '../failure-log.js';
import { isDigestReference } from './reference.js';

/** What dockerd takes as X-Registry-Auth. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/** The user name that goes with the shared join token (the server reads only the password). */
export const HOST_REGISTRY_USER = 'wharf-agent';
const REFRESH_MS = 60_000;
/** How long a pull waits for the server's first answer before going without credentials. */
const FIRST_ANSWER_WAIT_MS = 10_000;

export interface RegistryAccessOptions {
  /** GET /v1/registry as this host. */
  fetchInfo: () => Promise<RegistryInfo>;
  /** Docker's certs.d (dockerd reads /etc/docker/certs.d). */
  certsDir: string;
  /** The host's credentials for the platform registry and its mirrors; none: pulls go anonymous. */
  credentials?: { username: string; password: string };
  log: Logger;
}

/** Writes `<certsDir>/<address>/ca.crt` unless it holds `pem` already; true when it wrote. */
export async function installRegistryCa(certsDir: string, address: string, pem: string): Promise<boolean> {
  const dir = join(certsDir, address);
  const file = join(dir, 'ca.crt');
  if ((await readFile(file, 'utf8').catch(() => undefined)) === pem) return false;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  // dockerd reads the directory on every pull: never let it see half a file.
  await writeFile(`${file}.tmp`, pem, { mode: 0o644 });
  await rename(`${file}.tmp`, file);
  return true;
}

export class RegistryAccess {
  private address: string | undefined;
  /** Mirror address by upstream (HOST[:PORT] as image names spell it). */
  private mirrors = new Map<string, string>();
  private answered = false;
  private readonly firstAnswer: Promise<void>;
  private onFirstAnswer!: () => void;

  constructor(private readonly opts: RegistryAccessOptions) {
    this.firstAnswer = new Promise((resolve) => (this.onFirstAnswer = resolve));
  }

  /** The credentials for pulling `image`: the host's, when it is on the platform registry or a mirror. */
  readonly authFor = async (image: string): Promise<RegistryAuth | undefined> => {
    const registry = imageRegistry(image);
    const credentials = this.opts.credentials;
    if (!registry || !credentials) return undefined;
    await this.ready();
    if (registry !== this.address && ![...this.mirrors.values()].includes(registry)) return undefined;
    return { ...credentials, serveraddress: registry };
  };

  /**
   * The name to pull `image` by from a mirror of its registry, if the platform runs one.
   * A digest reference is not: Docker cannot give the result the original name.
   */
  readonly mirrorFor = async (image: string): Promise<string | undefined> => {
    const registry = imageRegistry(image);
    if (!registry || isDigestReference(image)) return undefined;
    await this.ready();
    const mirror = this.mirrors.get(registry);
    return mirror ? `${mirror}${image.slice(registry.length)}` : undefined;
  };

  /**
   * Whether the host can fetch an image of this name again from a registry the platform
   * runs: the platform registry, a mirror, or an upstream with a mirror.
   */
  readonly fromPlatform = (ref: string): boolean => {
    const registry = imageRegistry(ref);
    return registry !== undefined && (registry === this.address || this.mirrors.has(registry) || [...this.mirrors.values()].includes(registry));
  };

  /** Until the server's first answer (at most FIRST_ANSWER_WAIT_MS). */
  private async ready(): Promise<void> {
    if (!this.answered) await Promise.race([this.firstAnswer, sleep(FIRST_ANSWER_WAIT_MS)]);
  }

  /** One look at the server's registry: install its CA for its address. */
  async sync(): Promise<void> {
    // A server from before the registry has no such route: no registry.
    const info = await this.opts.fetchInfo().catch((err: unknown): RegistryInfo => {
      if (err instanceof WharfError && err.code === 'NOT_FOUND') return { enabled: false };
      throw err;
    });
    const address = info.enabled ? info.address : undefined;
    const mirrors = new Map(info.enabled ? (info.mirrors ?? []).map((m) => [m.upstream, m.address]) : []);
    for (const a of [address ?? [], ...mirrors.values()].flat()) {
      if (info.ca && (await installRegistryCa(this.opts.certsDir, a, info.ca))) {
        this.opts.log.info({ address: a, file: join(this.opts.certsDir, a, 'ca.crt') }, 'platform registry CA installed for Docker');
      }
    }
    if (address !== this.address) this.opts.log.info({ address: address ?? null }, address ? 'platform registry' : 'no platform registry');
    if (JSON.stringify([...mirrors]) !== JSON.stringify([...this.mirrors])) this.opts.log.info({ mirrors: Object.fromEntries(mirrors) }, 'registry mirrors');
    this.address = address;
    this.mirrors = mirrors;
    this.answered = true;
    this.onFirstAnswer();
  }

  async run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(500, 10_000);
    const failures = new FailureLog(this.opts.log, 'platform registry lookup');
    while (!signal.aborted) {
      try {
        await this.sync();
        failures.ok();
        backoff.reset();
        await sleep(REFRESH_MS, signal);
      } catch (err) {
        failures.fail(err);
        await sleep(backoff.next(), signal);
      }
    }
  }
}
