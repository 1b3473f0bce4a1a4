/**
 * A certificate authority kept in a directory: `ca.key` (0600) and `ca.crt`, made once,
 * and the leaves it signs. The registry (registry/pki.ts) and the cluster's agent
 * certificates (tls/cluster-pki.ts) each have one.
 *
 * Keys are P-256, made with node:crypto; certificates are signed by the `openssl` CLI
 * (`x509 -new -force_pubkey`, so a leaf needs only a public key: an agent's private key
 * never leaves its host). A certificate is re-issued when it is missing, not signed by
 * the current CA, or has less than 30 days left.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';

const DAY_MS = 86_400_000;
const RENEW_BEFORE_MS = 30 * DAY_MS;
const CA_DAYS = 3650;
export const LEAF_DAYS = 825;

/** What a leaf certificate is for. */
export interface LeafProfile {
  /** extendedKeyUsage; none: a signing-only key (the registry's token signer). */
  eku?: ('serverAuth' | 'clientAuth')[];
  /** SAN entries as subjectAltNames() makes them. */
  sans?: string[];
}

const REQ_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
`;

function leafConfig(p: LeafProfile): string {
  return `${REQ_CONFIG}[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
${p.eku?.length ? `extendedKeyUsage = ${p.eku.join(',')}\n` : ''}${p.sans?.length ? `subjectAltName = ${p.sans.join(',')}\n` : ''}`;
}

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
export function certSans(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '').split(', ').filter(Boolean).map((s) => s.replace(/^IP Address:/, 'IP:')).sort();
}

export async function readOr(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

/** A new P-256 private key in PKCS#8 PEM. */
export function newKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function fresh(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validTo) - now > RENEW_BEFORE_MS && Date.parse(cert.validFrom) <= now + DAY_MS;
}

export class CertAuthority {
  private constructor(
    readonly dir: string,
    readonly cert: X509Certificate,
  ) {}

  get certPem(): string {
    return this.cert.toString();
  }

  get certPath(): string {
    return join(this.dir, 'ca.crt');
  }

  /** The CA in `dir`, made (or re-made when stale) with `subject`; `made` tells whether it is new. */
  static async ensure(dir: string, subject: string, now = Date.now()): Promise<{ ca: CertAuthority; made: boolean }> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const keyPath = join(dir, 'ca.key');
    const certPath = join(dir, 'ca.crt');
    const pem = await readOr(certPath);
    const cert = pem && (await readOr(keyPath)) ? new X509Certificate(pem) : undefined;
    if (cert?.ca && fresh(cert, now)) return { ca: new CertAuthority(dir, cert), made: false };
    const config = join(dir, 'openssl.cnf');
    await writeFile(config, REQ_CONFIG);
    await writeFile(keyPath, newKeyPem(), { mode: 0o600 });
    try {
      await openssl(['req', '-new', '-x509', '-config', config, '-extensions', 'ca_ext', '-key', keyPath, '-subj', subject, '-days', String(CA_DAYS), '-out', certPath]);
    } finally {
      await rm(config, { force: true });
    }
    return { ca: new CertAuthority(dir, new X509Certificate(await readFile(certPath, 'utf8'))), made: true };
  }

  /** Whether `cert` was signed by this CA. */
  signed(cert: X509Certificate): boolean {
    return cert.checkIssued(this.cert) && cert.verify(this.cert.publicKey);
  }

  /**
   * Signs a certificate for `publicKeyPem` (SPKI PEM) with `subject` (e.g. `/O=x/CN=y`),
   * valid `days`; answers its PEM. Throws for a key node cannot read.
   */
  async sign(publicKeyPem: string, subject: string, profile: LeafProfile, days = LEAF_DAYS): Promise<string> {
    const pub = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'pem' }) as string;
    const work = await mkdtemp(join(this.dir, 'sign-'));
    const p = (f: string) => join(work, f);
    try {
      await writeFile(p('key.pub'), pub);
      await writeFile(p('openssl.cnf'), leafConfig(profile));
      await openssl(['x509', '-new', '-force_pubkey', p('key.pub'), '-subj', subject, '-CA', this.certPath, '-CAkey', join(this.dir, 'ca.key'),
        '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', String(days), '-extfile', p('openssl.cnf'), '-extensions', 'leaf_ext', '-out', p('cert.pem')]);
      return await readFile(p('cert.pem'), 'utf8');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Makes `<name>.key` and `<name>.crt` in the CA's directory unless the certificate there
   * is this CA's, current, and `keep(cert)` holds; true when it made them.
   */
  async ensureLeaf(name: string, subject: string, profile: LeafProfile, keep: (c: X509Certificate) => boolean = () => true, now = Date.now()): Promise<boolean> {
    const certPath = join(this.dir, `${name}.crt`);
    const keyPath = join(this.dir, `${name}.key`);
    const pem = await readOr(certPath);
    const cert = pem && (await readOr(keyPath)) ? new X509Certificate(pem) : undefined;
    if (cert && this.signed(cert) && fresh(cert, now) && keep(cert)) return false;
    const key = newKeyPem();
    await writeFile(keyPath, key, { mode: 0o600 });
    await writeFile(certPath, await this.sign(key, subject, profile));
    return true;
  }
}
