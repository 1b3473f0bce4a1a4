/**
 * The host's certificate, for agents that join with a one-use token. Made once: the
 * agent makes its key here, checks the server presents the CA its token pins, spends
 * the token at `POST /v1/join` for a certificate (CN = host name, SAN = the advertised
 * address) and a registry secret (its password for the platform registry), and keeps
 * key, certificate, CA and secret in `<data-dir>/tls/` (0600, directory 0700). Every
 * later start reuses them; no token is needed again.
 *
 * Renewal: when a third of the certificate's life is left (or `--cert-renew-before`),
 * the agent makes a new key and asks `POST /v1/join/renew` with the current
 * certificate; the new pair is written beside the old (`*.next`) and renamed into place,
 * key first: a start that finds a key without its certificate takes the `.next` one.
 */
import { X509Certificate, createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { WharfClient } from '@wharf/client';
import { WharfError, pinnedCa, type JoinAnswer, type RenewAnswer } from '@wharf/types';
import { backoffDelay, sleep } from '../backoff.js';
import { ConfigError } from '../config.js';
import { tlsFetch } from './fetch.js';

/** The agent's TLS identity (PEM): its key and certificate, and the cluster CA; its registry secret. */
export interface HostIdentity {
  ca: string;
  cert: string;
  key: string;
  /** The password (user: the host name) for pulls from the platform registry; absent for a host that joined before servers gave one. */
  registrySecret?: string;
}


const files = (dir: string) => ({ key: join(dir, 'host.key'), cert: join(dir, 'host.crt'), ca: join(dir, 'ca.crt'), registry: join(dir, 'registry.secret') });

/** The identity kept in `dir`, if the agent joined before; a certificate for another host name is an error. */
export async function loadIdentity(dir: string, name: string, log: Logger): Promise<HostIdentity | undefined> {
  const f = files(dir);
  if (await finishRenewal(f)) log.warn({ cert: f.cert }, 'took the renewed certificate written before the agent stopped');
  const [key, cert, ca, registrySecret] = await Promise.all([read(f.key), read(f.cert), read(f.ca), read(f.registry)]);
  if (!key || !cert || !ca) return undefined;
  const x = new X509Certificate(cert);
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x.subject)?.[1];
  if (cn !== name) throw new ConfigError(`${f.cert} is the certificate of host ${cn ?? '?'}, not of ${name}: remove ${dir} and join again with a new token`);
  const left = Date.parse(x.validTo) - Date.now();
  if (left <= 0) log.warn({ expires: x.validTo }, `the host certificate has expired: remove ${dir} and join again with a new token`);
  if (!registrySecret) log.warn(`no ${f.registry}: private images of the platform registry do not pull; remove ${dir} and join again with a new token`);
  return { key, cert, ca, ...(registrySecret ? { registrySecret: registrySecret.trim() } : {}) };
}

/** Whether the identity's certificate names the host of `advertise` (what the server checks when it calls the agent). */
export function certifiesAddress(identity: HostIdentity, advertise: string): boolean {
  const host = new URL(advertise).hostname.replace(/^\[|\]$/g, '');
  const x = new X509Certificate(identity.cert);
  return x.checkIP(host) !== undefined || x.checkHost(host) !== undefined;
}

export interface JoinOptions {
  /** The server's TLS listener URL(s), https. */
  server: string;
  token: string;
  name: string;
  /** The agent API's https URL: the certificate's SAN. */
  advertise: string;
  dir: string;
  log: Logger;
}

/** Joins with a one-use token and keeps the identity in `dir`. */
export async function joinCluster(o: JoinOptions): Promise<HostIdentity> {
  const pin = pinnedCa(o.token);
  if (!pin) throw new ConfigError('the join token is not a one-use token (wharf host join-token create)');
  if (o.server.split(',').some((u) => !/^https:\/\//i.test(u.trim()))) {
    throw new ConfigError(`--server ${o.server}: a one-use join token is spent at wharf-server's agents' TLS listener: give its https URL (wharf-server --agent-tls-listen)`);
  }
  // The CA is fetched without trusting anything, then checked against the token's pin before the token is sent.
  const anyone = new WharfClient({ server: o.server, fetch: tlsFetch({ rejectUnauthorized: false }) });
  const ca = await (await anyone.raw('GET', '/v1/join/ca.crt')).text();
  const fingerprint = createHash('sha256').update(new X509Certificate(ca).raw).digest('hex');
  if (fingerprint !== pin) throw new ConfigError(`the server at ${anyone.server} presents the cluster CA ${fingerprint}, not the ${pin} of the join token: wrong server, or someone in between`);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const client = new WharfClient({ server: o.server, fetch: tlsFetch({ ca }) });
  const answer = await client.request<JoinAnswer>('POST', '/v1/join', {
    token: o.token, name: o.name, publicKey: publicKey.export({ type: 'spki', format: 'pem' }), address: o.advertise,
  });
  await mkdir(o.dir, { recursive: true, mode: 0o700 });
  const f = files(o.dir);
  // Key first, certificate last: a certificate on disk always has its key and registry secret.
  await writeSecret(f.key, key);
  await writeSecret(f.ca, answer.ca);
  await writeSecret(f.registry, answer.registrySecret);
  await writeSecret(f.cert, answer.certificate);
  o.log.info({ host: o.name, expires: answer.expiresAt, dir: o.dir }, 'joined the cluster: host certificate and registry secret kept');
  return { key, cert: answer.certificate, ca: answer.ca, registrySecret: answer.registrySecret };
}

/** Whether a failed join may succeed when tried again: the server was not reached or failed (5xx), not a refusal. */
export function joinMayRetry(err: unknown): boolean {
  if (err instanceof ConfigError) return false;
  if (err instanceof WharfError) return err.status >= 500;
  return true;
}

/**
 * Joins, trying again while the server cannot be reached or fails (down, restarting,
 * behind a load balancer not ready yet), 1 s after the first failure and doubling up to
 * 30 s. A refusal (a spent, expired or revoked token; a CA other than the token's pin)
 * is final: it needs a new token or another server, not time.
 */
export async function joinUntilDone(o: JoinOptions, attempt: (o: JoinOptions) => Promise<HostIdentity> = joinCluster, signal?: AbortSignal): Promise<HostIdentity> {
  for (let failures = 1; ; failures++) {
    try {
      return await attempt(o);
    } catch (err) {
      if (!joinMayRetry(err) || signal?.aborted) throw err;
      const delay = backoffDelay(failures, 1000, 30_000);
      o.log.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: delay, attempt: failures }, 'cannot join the cluster yet; trying again');
      await sleep(delay, signal);
    }
  }
}

const read = (p: string) => readFile(p, 'utf8').catch(() => undefined);
/** Whether `cert` is `key`'s; false for a file cut short. */
function pairs(cert: string, key: string): boolean {
  try {
    return new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch {
    return false;
  }
}

/**
 * Finishes a renewal cut short. The server has revoked the old certificate once it
 * answered, so a renewed pair on disk (`.next`, renamed into place key first) is the one
 * to keep: the `.next` key when the `.next` certificate is its own, then the certificate.
 * True when it took the renewed certificate.
 */
async function finishRenewal(f: ReturnType<typeof files>): Promise<boolean> {
  const nextCert = await read(`${f.cert}.next`);
  if (!nextCert) return false;
  const nextKey = await read(`${f.key}.next`);
  if (nextKey && pairs(nextCert, nextKey)) await rename(`${f.key}.next`, f.key);
  const key = await read(f.key);
  if (!key || !pairs(nextCert, key)) return false;
  await rename(`${f.cert}.next`, f.cert);
  return true;
}

/** When `cert` is due for renewal: `before` its end, or with a third of its life left. */
export function renewalDue(cert: string, beforeMs?: number): number {
  const x = new X509Certificate(cert);
  const from = Date.parse(x.validFrom);
  const to = Date.parse(x.validTo);
  return to - (beforeMs ?? (to - from) / 3);
}

/**
 * Renews the identity kept in `dir` at `server` with its current certificate: a new
 * key, a new certificate for it; the registry secret and the CA stay.
 */
export async function renewIdentity(o: { server: string; dir: string; current: HostIdentity; log: Logger }): Promise<HostIdentity> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const client = new WharfClient({ server: o.server, fetch: tlsFetch(o.current) });
  const answer = await client.request<RenewAnswer>('POST', '/v1/join/renew', { publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });
  const f = files(o.dir);
  await writeSecret(`${f.key}.next`, key);
  await writeSecret(`${f.cert}.next`, answer.certificate);
  await rename(`${f.key}.next`, f.key);
  await rename(`${f.cert}.next`, f.cert);
  o.log.info({ expires: answer.expiresAt }, 'host certificate renewed');
  return { ...o.current, key, cert: answer.certificate, ca: answer.ca };
}

async function writeSecret(path: string, pem: string): Promise<void> {
  await writeFile(`${path}.tmp`, pem, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
