/**
 * The agents' TLS listener (--agent-tls-listen): the same API as the main listener,
 * over HTTPS with this server's cluster certificate. It asks every client for a
 * certificate but does not require one: a host certificate signed by the cluster CA
 * identifies an agent (auth/hook.ts), and a client without one may still join
 * (`POST /v1/join`) or use a bearer token.
 */
import { createServer, type Server } from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { App } from '../api/context.js';
import type { ClusterPki } from './cluster-pki.js';

export interface AgentListener {
  /** e.g. https://10.0.0.1:7443 */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listenForAgents(app: App, pki: ClusterPki, host: string, port: number): Promise<AgentListener> {
  const server: Server = createServer({ ...pki.server, requestCert: true, rejectUnauthorized: false }, (req, res) => app.routing(req, res));
  // Desired-state long polls hold a request up to 60 s.
  server.keepAliveTimeout = 72_000;
  server.requestTimeout = 0;
  server.listen(port, host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    port: actual,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
