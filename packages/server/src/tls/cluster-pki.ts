/**
 * The cluster CA: it signs each joined host's certificate (at `POST /v1/join`) and the
 * server's own, which serves the agents' TLS listener and is the client certificate the
 * server presents to agents. Kept in `<data-dir>/cluster-ca/` (keys 0600):
 *
 *   ca.key, ca.crt        the cluster CA (10 years)
 *   server.key/.crt       O=wharf-servers, CN=wharf-server; serverAuth and clientAuth;
 *                         SANs: the names and IPs agents reach this server by
 *
 * Several servers on one store must share the CA: its certificate is recorded in the
 * store by the first server, and a server whose CA differs refuses to start, saying to
 * copy the directory (docs/operations.md).
 */
import { X509Certificate, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '@wharf/store';
import { HOST_ORG, SERVER_ORG } from '@wharf/types';
import { CertAuthority, certSans, LEAF_DAYS, subjectAltNames } from './ca.js';

const CA_KEY = '/cluster/ca';

/** A certificate, its key and the CA to trust, all PEM: what a TLS client or server is given. */
export interface TlsIdentity {
  ca: string;
  cert: string;
  key: string;
}

/** SHA-256 of a certificate's DER, lowercase hex: what a join token pins. */
export function certFingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

export class ClusterPki {
  private constructor(
    private readonly ca: CertAuthority,
    /** The server's certificate and key, and the cluster CA. */
    readonly server: TlsIdentity,
    /** What was made this time ('ca', 'server'), for the log. */
    readonly issued: string[],
    /** How long a host certificate lasts. */
    readonly hostCertDays: number,
  ) {}

  get caPem(): string {
    return this.ca.certPem;
  }

  get fingerprint(): string {
    return certFingerprint(this.ca.certPem);
  }

  /** Makes what is missing in `dir`; `names`: the server's names and IPs for agents (its certificate's SANs). */
  static async prepare(dir: string, names: string[], store: Store, opts: { hostCertDays?: number | undefined; now?: number } = {}): Promise<ClusterPki> {
    const now = opts.now ?? Date.now();
    const sans = subjectAltNames(names);
    if (sans.length === 0) throw new Error('the agents\' TLS listener needs at least one host name or IP for its certificate');
    const { ca, made } = await CertAuthority.ensure(dir, '/CN=Wharf cluster CA', now);
    await shareCa(store, ca, dir);
    const issued = made ? ['ca'] : [];
    const fresh = await ca.ensureLeaf('server', `/O=${SERVER_ORG}/CN=wharf-server`, { eku: ['serverAuth', 'clientAuth'], sans }, (c) => certSans(c).join() === sans.join(), now);
    if (fresh) issued.push('server');
    const [cert, key] = await Promise.all([readFile(join(dir, 'server.crt'), 'utf8'), readFile(join(dir, 'server.key'), 'utf8')]);
    return new ClusterPki(ca, { ca: ca.certPem, cert, key }, issued, opts.hostCertDays ?? LEAF_DAYS);
  }

  /** A host's certificate: CN = its name, O = wharf-hosts, SANs = the addresses it is reached at; client and server use. */
  signHost(name: string, publicKeyPem: string, addresses: string[]): Promise<string> {
    return this.ca.sign(publicKeyPem, `/O=${HOST_ORG}/CN=${name}`, { eku: ['serverAuth', 'clientAuth'], sans: subjectAltNames(addresses) }, this.hostCertDays);
  }
}

/** Records this CA in the store, or checks it is the one recorded there. */
async function shareCa(store: Store, ca: CertAuthority, dir: string): Promise<void> {
  const mine = certFingerprint(ca.certPem);
  for (let attempt = 0; attempt < 5; attempt++) {
    const kv = await store.get<{ fingerprint: string }>(CA_KEY);
    if (kv) {
      if (kv.value.fingerprint === mine) return;
      throw new Error(`the cluster CA in ${dir} (SHA-256 ${mine}) is not the one the other servers use (${kv.value.fingerprint}): `
        + `copy ca.key and ca.crt into ${dir} from a running server and start again`);
    }
    if ((await store.txn([{ key: CA_KEY, absent: true }], [{ type: 'put', key: CA_KEY, value: { fingerprint: mine, pem: ca.certPem } }])).succeeded) return;
  }
  throw new Error('cannot record the cluster CA in the store (it keeps changing)');
}
