/**
 * Who may call the API of an agent that joined: the TLS handshake must have verified
 * the caller's certificate against the cluster CA. A server's certificate
 * (O=wharf-servers) may call everything; another host's (O=wharf-hosts) only the
 * volume export, which a host pulls when a set moves to it, unless the server revoked
 * that certificate (a removed host's, one replaced by a re-join or a renewal). A
 * plain-HTTP request never gets here: the listener speaks only TLS.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { HOST_ORG, SERVER_ORG, WharfError } from '@wharf/types';

const EXPORT_PATH = /^\/v1\/volumes\/[^/]+\/[^/]+\/[^/]+\/export$/;

export function authorizeCaller(req: IncomingMessage, path: string, revoked: ReadonlySet<string> = new Set()): void {
  const socket = req.socket as TLSSocket;
  const cert = socket.authorized ? socket.getPeerCertificate() : undefined;
  const org = (cert?.subject as { O?: unknown } | undefined)?.O;
  if (org === SERVER_ORG) return;
  if (org === HOST_ORG && revoked.has(cert?.fingerprint256.replace(/:/g, '').toLowerCase() ?? '')) {
    throw new WharfError('UNAUTHORIZED', `the certificate of host ${String((cert?.subject as { CN?: unknown }).CN)} was revoked by the server`);
  }
  if (org === HOST_ORG && req.method === 'GET' && EXPORT_PATH.test(path)) return;
  if (org === HOST_ORG) throw new WharfError('FORBIDDEN', 'a host certificate may only pull volume exports from this agent');
  const why = socket.authorizationError ? ` (${String(socket.authorizationError)})` : '';
  throw new WharfError('UNAUTHORIZED', `a client certificate of this cluster's wharf-server is required${why}`);
}
