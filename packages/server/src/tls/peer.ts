/**
 * Who a request on the agents' TLS listener comes from, by its client certificate:
 * a host whose certificate the cluster CA signed (O=wharf-hosts, CN=<host>) and that
 * is the one recorded at its latest join, so a re-join replaces the old certificate.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Store } from '@wharf/store';
import { HOST_ORG, WharfError } from '@wharf/types';
import type { Principal } from '../auth/principal.js';
import { hostCert } from './join-tokens.js';

export interface PeerHost {
  name: string;
  /** SHA-256 of the certificate, lowercase hex. */
  fingerprint: string;
}

/** The host a request's client certificate names, when the TLS handshake verified it against the cluster CA. */
export function peerHost(req: IncomingMessage): PeerHost | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (!socket.encrypted || !socket.authorized || !socket.getPeerCertificate) return undefined;
  const cert = socket.getPeerCertificate();
  const { O, CN } = (cert?.subject ?? {}) as { O?: unknown; CN?: unknown };
  if (O !== HOST_ORG || typeof CN !== 'string') return undefined;
  return { name: CN, fingerprint: cert.fingerprint256.replace(/:/g, '').toLowerCase() };
}

/** The principal of a host certificate: an agent bound to its own host. 401 for a certificate a later join replaced. */
export async function hostPrincipal(store: Store, peer: PeerHost): Promise<Principal> {
  const current = await hostCert(store, peer.name);
  if (current?.fingerprint !== peer.fingerprint) {
    throw new WharfError('UNAUTHORIZED', `this certificate of host ${peer.name} is not the host's current one (it joined again, or its record was removed); join with a new token`);
  }
  return {
    kind: 'agent',
    name: peer.name,
    host: peer.name,
    platformAdmin: false,
    roles: {},
    token: { hash: peer.fingerprint, record: { role: 'agent', name: `host ${peer.name}`, createdAt: current.issuedAt, expiresAt: current.expiresAt } },
  };
}
