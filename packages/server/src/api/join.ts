/**
 * Hosts joining with one-use tokens: platform admins make the tokens
 * (`/v1/join-tokens`), an agent spends one at `POST /v1/join` for its certificate.
 * Joins are taken only on the agents' TLS listener (--agent-tls-listen).
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Type } from '@sinclair/typebox';
import { JoinAnswer, JoinToken, JoinTokenCreated, RenewAnswer, WharfError } from '@wharf/types';
import { principal } from '../auth/hook.js';
import type { ClusterPki } from '../tls/cluster-pki.js';
import { certFingerprint } from '../tls/cluster-pki.js';
import { certSans } from '../tls/ca.js';
import { newRegistrySecret } from '../tls/registry-secret.js';
import {
  consumeJoinToken, createJoinToken, DEFAULT_JOIN_TTL_SECONDS, hostCert, listJoinTokens, MAX_JOIN_TTL_SECONDS, recordHostCert, revokeJoinToken,
} from '../tls/join-tokens.js';
import { peerHost } from '../tls/peer.js';
import type { App, ApiContext } from './context.js';
import { errors } from './schemas.js';

/** The agent's --name rule. */
export const HOST_NAME_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$';

const JoinRequest = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 256, description: 'A one-use join token' }),
  name: Type.String({ pattern: HOST_NAME_PATTERN, description: 'The host name, the certificate\'s CN' }),
  publicKey: Type.String({ minLength: 1, maxLength: 8192, description: 'The agent\'s public key (PEM, SPKI); its private key never leaves the host' }),
  address: Type.String({ minLength: 1, maxLength: 2048, description: 'The agent API\'s https URL (its --advertise): the certificate\'s SAN' }),
}, { additionalProperties: false });
function needsCluster(cluster: ClusterPki | undefined): ClusterPki {
  if (!cluster) throw new WharfError('CONFLICT', 'one-use join tokens need the agents\' TLS listener: start wharf-server with --agent-tls-listen HOST:PORT');
  return cluster;
}

/** The host part of the agent's advertised https URL; 400 naming `address` otherwise. */
function addressHost(address: string): string {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw WharfError.validation([{ path: 'address', message: `"${address}" is not a URL (e.g. https://10.0.0.5:7071)` }]);
  }
  if (url.protocol !== 'https:') throw WharfError.validation([{ path: 'address', message: `"${address}" must be an https URL: the agent serves its API with the certificate it joins for` }]);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!isIP(host) && !/^[A-Za-z0-9.-]+$/.test(host)) throw WharfError.validation([{ path: 'address', message: `"${url.hostname}" is not a host name or IP` }]);
  return host;
}

function readablePublicKey(pem: string): string {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'rsa') throw new Error(`a ${key.asymmetricKeyType ?? 'unknown'} key`);
    if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new Error('an RSA key under 2048 bits');
    return key.export({ type: 'spki', format: 'pem' }) as string;
  } catch (err) {
    throw WharfError.validation([{ path: 'publicKey', message: `not a usable public key (PEM, EC or RSA ≥ 2048 bits): ${(err as Error).message}` }]);
  }
}

export function joinRoutes(app: App, { store, cluster }: ApiContext): void {
  app.post('/v1/join-tokens', {
    schema: {
      tags: ['hosts'],
      summary: 'Make a one-use join token for a host (platform admins)',
      description: 'The token is in this answer only; the store keeps its hash. It works for one join, until it expires.',
      body: Type.Object({
        ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: MAX_JOIN_TTL_SECONDS, description: `How long it may be used; default ${DEFAULT_JOIN_TTL_SECONDS}` })),
      }, { additionalProperties: false }),
      response: { 201: JoinTokenCreated, ...errors(400, 401, 403, 409) },
    },
  }, async (req, reply) => {
    const pki = needsCluster(cluster);
    const made = await createJoinToken(store, { caFingerprint: pki.fingerprint, ttlSeconds: req.body?.ttlSeconds ?? DEFAULT_JOIN_TTL_SECONDS, createdBy: principal(req).name });
    req.log.info({ joinTokenId: made.record.id, expiresAt: made.record.expiresAt }, 'join token made');
    return reply.status(201).send({ ...made.record, token: made.token, caFingerprint: pki.fingerprint });
  });

  app.get('/v1/join-tokens', {
    schema: { tags: ['hosts'], summary: 'List join tokens: unused, used (by which host) and expired ones of the last day', response: { 200: Type.Array(JoinToken), ...errors(401, 403) } },
  }, async () => listJoinTokens(store));

  app.delete('/v1/join-tokens/:id', {
    schema: { tags: ['hosts'], summary: 'Revoke a join token', params: Type.Object({ id: Type.String() }), response: { 204: Type.Null(), ...errors(401, 403, 404) } },
  }, async (req, reply) => {
    if (!(await revokeJoinToken(store, req.params.id))) throw new WharfError('TOKEN_NOT_FOUND', `no join token ${req.params.id} (see GET /v1/join-tokens)`);
    return reply.status(204).send(null);
  });

  app.get('/v1/join/ca.crt', {
    config: { access: 'public' },
    schema: { tags: ['agent'], summary: 'The cluster CA (PEM): agents check it against the fingerprint in their join token', response: { 200: Type.String({ description: 'PEM' }), ...errors(404) } },
  }, async (_req, reply) => {
    if (!cluster) throw new WharfError('NOT_FOUND', 'this server has no agents\' TLS listener (--agent-tls-listen), hence no cluster CA');
    return reply.type('application/x-pem-file').send(cluster.caPem);
  });

  app.post('/v1/join', {
    config: { access: 'public' },
    schema: {
      tags: ['agent'],
      summary: 'Join a host: spend a one-use join token for a certificate',
      description: 'Only on the agents\' TLS listener. The certificate\'s CN is the host name and its SAN the host of `address`; '
        + 'with it the agent calls the server (mutual TLS) as that host only, and serves its API. The registry secret is the host\'s '
        + 'password (user: its name) for pulls from the platform registry. A used token is 409, an unknown or expired one 401.',
      body: JoinRequest,
      response: { 200: JoinAnswer, ...errors(400, 401, 409) },
    },
  }, async (req) => {
    const pki = needsCluster(cluster);
    if (!(req.raw.socket as Partial<TLSSocket>).encrypted) {
      throw new WharfError('BAD_REQUEST', 'joins are taken only on the agents\' TLS listener (the https URL of wharf-server --agent-tls-listen), so the token never travels in clear');
    }
    const { token, name } = req.body;
    const publicKey = readablePublicKey(req.body.publicKey);
    const address = addressHost(req.body.address);
    // Input is checked before the token is spent: a mistake does not cost the token.
    const spent = await consumeJoinToken(store, token, name);
    const certificate = await pki.signHost(name, publicKey, [address]);
    const cert = new X509Certificate(certificate);
    const registry = newRegistrySecret();
    await recordHostCert(store, name, {
      fingerprint: certFingerprint(certificate), issuedAt: new Date().toISOString(), expiresAt: new Date(cert.validTo).toISOString(), joinToken: spent.id, registrySecret: registry.hash,
    });
    req.log.info({ host: name, joinTokenId: spent.id, address }, 'host joined: certificate and registry secret issued');
    return { certificate, ca: pki.caPem, expiresAt: new Date(cert.validTo).toISOString(), registrySecret: registry.secret };
  });

  app.post('/v1/join/renew', {
    config: { access: 'agent' },
    schema: {
      tags: ['agent'],
      summary: 'Renew a joined host\'s certificate, for a new key (the host\'s own certificate only)',
      description: 'Over mutual TLS with the certificate to renew: the new one has the same name and addresses and lasts the '
        + 'server\'s --host-cert-days; the old one is revoked (agents refuse it). The registry secret stays.',
      body: Type.Object({ publicKey: JoinRequest.properties.publicKey }, { additionalProperties: false }),
      response: { 200: RenewAnswer, ...errors(400, 401, 403, 409) },
    },
  }, async (req) => {
    const pki = needsCluster(cluster);
    const peer = peerHost(req.raw);
    if (!peer) throw new WharfError('FORBIDDEN', 'only a host that joined with a one-use token renews, with its certificate (mutual TLS)');
    const publicKey = readablePublicKey(req.body.publicKey);
    const current = await hostCert(store, peer.name);
    // The auth hook checked the certificate is the current one; a renewal that won meanwhile makes the compare below fail.
    if (!current) throw new WharfError('UNAUTHORIZED', `host ${peer.name} holds no certificate any more`);
    const presented = new X509Certificate((req.raw.socket as TLSSocket).getPeerCertificate().raw);
    const addresses = certSans(presented).map((s) => s.replace(/^(IP|DNS):/, ''));
    const certificate = await pki.signHost(peer.name, publicKey, addresses);
    const cert = new X509Certificate(certificate);
    const record = { ...current, fingerprint: certFingerprint(certificate), issuedAt: new Date().toISOString(), expiresAt: new Date(cert.validTo).toISOString() };
    if (!(await recordHostCert(store, peer.name, record, { replacing: peer.fingerprint }))) {
      throw new WharfError('CONFLICT', `host ${peer.name}'s certificate changed meanwhile (another renewal, a join or a revocation); renew with the current one`);
    }
    req.log.info({ host: peer.name, expiresAt: record.expiresAt }, 'host certificate renewed');
    return { certificate, ca: pki.caPem, expiresAt: record.expiresAt };
  });
}
