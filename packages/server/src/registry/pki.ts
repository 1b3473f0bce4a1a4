/**
 * The registry's certificates, made once and kept in `<data-dir>/registry/`:
 *
 *   ca.key, ca.crt        Wharf's registry CA (10 years); hosts trust it in Docker's certs.d
 *   server.key/.crt       the registry's TLS certificate, signed by the CA; SANs: the names
 *                         and IPs the registry is reached by (re-issued when they change)
 *   token.key/.crt        the token-signing key; its certificate is the registry's
 *                         rootcertbundle, and the token header's `kid` names its key
 *
 * Keys are P-256, made with node:crypto; certificates are signed by the `openssl` CLI.
 * A certificate is re-issued when it is missing, not signed by the current CA, or has
 * less than 30 days left.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { libtrustKeyId } from './libtrust.js';

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

const DAY_MS = 86_400_000;
const RENEW_BEFORE_MS = 30 * DAY_MS;
const CA_DAYS = 3650;
const LEAF_DAYS = 825;

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[token_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args[0]} failed: ${(stderr || err.message).trim()}`));
      else resolve();
    });
  });
}

/** `IP:1.2.3.4` / `DNS:name` entries for the names and addresses given (deduplicated, sorted). */
export function subjectAltNames(names: string[]): string[] {
  return [...new Set(names.filter(Boolean).map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n.toLowerCase()}`)))].sort();
}

/** The SAN entries of a certificate in the same form (node writes IPs as "IP Address:…"). */
function certSans(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '').split(', ').filter(Boolean).map((s) => s.replace(/^IP Address:/, 'IP:')).sort();
}

async function readOr(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

async function newKey(path: string): Promise<void> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
}

function fresh(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validTo) - now > RENEW_BEFORE_MS && Date.parse(cert.validFrom) <= now + DAY_MS;
}

/** Makes what is missing or stale; `names`: the registry's host names and IPs (its certificate's SANs). */
export async function ensurePki(dir: string, names: string[], now = Date.now()): Promise<RegistryPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const p = (f: string) => join(dir, f);
  const config = p('openssl.cnf');
  const issued: string[] = [];

  const caPem = await readOr(p('ca.crt'));
  let ca = caPem && (await readOr(p('ca.key'))) ? new X509Certificate(caPem) : undefined;
  if (!ca || !ca.ca || !fresh(ca, now)) {
    await writeFile(config, OPENSSL_CONFIG);
    await newKey(p('ca.key'));
    await openssl(['req', '-new', '-x509', '-config', config, '-extensions', 'ca_ext', '-key', p('ca.key'), '-subj', '/CN=Wharf registry CA', '-days', String(CA_DAYS), '-out', p('ca.crt')]);
    ca = new X509Certificate(await readFile(p('ca.crt'), 'utf8'));
    issued.push('ca');
  }

  /** A leaf signed by the CA, re-issued unless it is current and `keep(cert)` holds. */
  const leaf = async (name: string, subject: string, ext: string, keep: (c: X509Certificate) => boolean): Promise<void> => {
    const pem = await readOr(p(`${name}.crt`));
    const cert = pem && (await readOr(p(`${name}.key`))) ? new X509Certificate(pem) : undefined;
    if (cert && cert.checkIssued(ca) && cert.verify(ca.publicKey) && fresh(cert, now) && keep(cert)) return;
    await writeFile(config, ext);
    await newKey(p(`${name}.key`));
    const csr = p(`${name}.csr`);
    try {
      await openssl(['req', '-new', '-config', config, '-key', p(`${name}.key`), '-subj', subject, '-out', csr]);
      await openssl(['x509', '-req', '-in', csr, '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-set_serial', `0x${randomBytes(16).toString('hex')}`,
        '-days', String(LEAF_DAYS), '-extfile', config, '-extensions', `${name}_ext`, '-out', p(`${name}.crt`)]);
    } finally {
      await rm(csr, { force: true });
    }
    issued.push(name);
  };

  const sans = subjectAltNames(names);
  if (sans.length === 0) throw new Error('the registry certificate needs at least one host name or IP');
  const serverExt = `${OPENSSL_CONFIG}[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = ${sans.join(',')}
`;
  await leaf('server', '/CN=Wharf registry', serverExt, (c) => certSans(c).join() === sans.join());
  await leaf('token', '/CN=Wharf registry token signer', OPENSSL_CONFIG, () => true);
  await rm(config, { force: true });

  const tokenKey = createPrivateKey(await readFile(p('token.key'), 'utf8'));
  return {
    caCertPem: ca.toString(),
    caCertPath: p('ca.crt'),
    serverCertPath: p('server.crt'),
    serverKeyPath: p('server.key'),
    tokenCertPath: p('token.crt'),
    tokenKey,
    tokenKeyId: libtrustKeyId(tokenKey),
    issued,
  };
}
