/**
 * The platform registry as this host uses it: the server tells its address and CA
 * (`GET /v1/registry`); the CA goes to Docker's `certs.d/<address>/ca.crt`, so dockerd
 * verifies the registry's TLS certificate with no --insecure-registry, and pulls of
 * images on that registry carry the host credentials (the join token as the password).
 * Asked again every minute (and with back-off until the first answer): a server that
 * moved the registry or made a new CA is followed.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { WharfError, imageRegistry, type RegistryInfo } from '@wharf/types';
import { Backoff, sleep } from '../backoff.js';
import { FailureLog } from '../failure-log.js';

/** What dockerd takes as X-Registry-Auth. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

export const HOST_REGISTRY_USER = 'wharf-agent';
const REFRESH_MS = 60_000;
/** How long a pull waits for the server's first answer before going without credentials. */
const FIRST_ANSWER_WAIT_MS = 10_000;

export interface RegistryAccessOptions {
  /** GET /v1/registry with the join token. */
  fetchInfo: () => Promise<RegistryInfo>;
  /** Docker's certs.d (dockerd reads /etc/docker/certs.d). */
  certsDir: string;
  joinToken?: string;
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
  private answered = false;
  private readonly firstAnswer: Promise<void>;
  private onFirstAnswer!: () => void;

  constructor(private readonly opts: RegistryAccessOptions) {
    this.firstAnswer = new Promise((resolve) => (this.onFirstAnswer = resolve));
  }

  /** The credentials for pulling `image`: the host's, when it is on the platform registry. */
  readonly authFor = async (image: string): Promise<RegistryAuth | undefined> => {
    const registry = imageRegistry(image);
    if (!registry || !this.opts.joinToken) return undefined;
    if (!this.answered) await Promise.race([this.firstAnswer, sleep(FIRST_ANSWER_WAIT_MS)]);
    if (registry !== this.address) return undefined;
    return { username: HOST_REGISTRY_USER, password: this.opts.joinToken, serveraddress: registry };
  };

  /** One look at the server's registry: install its CA for its address. */
  async sync(): Promise<void> {
    // A server from before the registry has no such route: no registry.
    const info = await this.opts.fetchInfo().catch((err: unknown): RegistryInfo => {
      if (err instanceof WharfError && err.code === 'NOT_FOUND') return { enabled: false };
      throw err;
    });
    const address = info.enabled ? info.address : undefined;
    if (address && info.ca && (await installRegistryCa(this.opts.certsDir, address, info.ca))) {
      this.opts.log.info({ address, file: join(this.opts.certsDir, address, 'ca.crt') }, 'platform registry CA installed for Docker');
    }
    if (address !== this.address) this.opts.log.info({ address: address ?? null }, address ? 'platform registry' : 'no platform registry');
    this.address = address;
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
