/**
 * The registry's certificates, made once and kept in `<data-dir>/registry/`:
 *
 *   ca.key, ca.crt        Wharf's registry CA (10 years); hosts trust it in Docker's certs.d
 *   server.key/.crt       the registry's TLS certificate, signed by the CA; SANs: the names
 *                         and IPs the registry is reached by (re-issued when they change)
 *   token.key/.crt        the token-signing key; its certificate is the registry's
 *                         rootcertbundle, and the token header's `kid` names its key
 *
 * The CA and its leaves are made by tls/ca.ts (P-256 keys, signed by the openssl CLI,
 * re-issued when missing, not the CA's, or with less than 30 days left).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CertAuthority, certSans, subjectAltNames } from '../tls/ca.js';
import { libtrustKeyId } from './libtrust.js';

export { subjectAltNames };

export interface RegistryPki {
  caCertPem: string;
  caCertPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  /** The registry's rootcertbundle. */
  tokenCertPath: string;
  tokenKey: KeyObject;
  /** libtrust key ID of the token key: the JWT header's `kid`. */
  tokenKeyId: string;
  /** What was made this time ('ca', 'server', 'token'), for the log. */
  issued: string[];
}

/** Makes what is missing or stale; `names`: the registry's host names and IPs (its certificate's SANs). */
export async function ensurePki(dir: string, names: string[], now = Date.now()): Promise<RegistryPki> {
  const sans = subjectAltNames(names);
  if (sans.length === 0) throw new Error('the registry certificate needs at least one host name or IP');
  const { ca, made } = await CertAuthority.ensure(dir, '/CN=Wharf registry CA', now);
  const issued = made ? ['ca'] : [];
  if (await ca.ensureLeaf('server', '/CN=Wharf registry', { eku: ['serverAuth'], sans }, (c) => certSans(c).join() === sans.join(), now)) issued.push('server');
  if (await ca.ensureLeaf('token', '/CN=Wharf registry token signer', {}, () => true, now)) issued.push('token');
  const p = (f: string) => join(dir, f);
  const tokenKey = createPrivateKey(await readFile(p('token.key'), 'utf8'));
  return {
    caCertPem: ca.certPem,
    caCertPath: ca.certPath,
    serverCertPath: p('server.crt'),
    serverKeyPath: p('server.key'),
    tokenCertPath: p('token.crt'),
    tokenKey,
    tokenKeyId: libtrustKeyId(tokenKey),
    issued,
  };
}
