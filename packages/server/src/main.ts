#!/usr/bin/env node
/** `wharf-server`: the control plane. Flags > WHARF_* env > defaults. */
import { parseArgs } from 'node:util';
import { WHARF_VERSION } from '@wharf/types';
import { etcdAccessFromFiles, parseStoreUrl } from '@wharf/store';
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { DEFAULT_REGISTRY_ADDR, DEFAULT_REGISTRY_GC, startServer } from './server.js';
import { parseGcSchedule } from './registry/gc-schedule.js';
import { splitHostPort } from './registry/distribution.js';
import { parseMirrors } from './registry/mirror.js';
import { parseDuration } from './metrics/time.js';
import { DEFAULT_SSH_PORT } from './ssh/gateway.js';
import { LEAF_DAYS } from './tls/ca.js';

const MIN_RETENTION_MS = 60_000;
const MAX_RETENTION_MS = 24 * 3_600_000;

const HELP = `Usage: wharf-server [options]

Runs the Wharf control plane: REST API under /v1, store, scheduler and controllers.

Options:
  --host ADDR        listen address            (WHARF_HOST, default 127.0.0.1)
  --port N           listen port               (WHARF_PORT, default 7070)
  --data-dir DIR     state and tokens          (WHARF_DATA_DIR, default /var/lib/wharf)
  --store URL        sqlite:PATH or etcd://HOST:PORT[,HOST:PORT...][?prefix=/wharf/]
                     (WHARF_STORE, default sqlite:<data-dir>/wharf.db)
  --etcd-ca FILE     CA of etcd's certificates; TLS to etcd (WHARF_ETCD_CA)
  --etcd-cert FILE, --etcd-key FILE
                     client certificate for etcd (WHARF_ETCD_CERT, WHARF_ETCD_KEY)
  --etcd-user NAME, --etcd-password-file FILE
                     etcd user, and a file whose first line is its password
                     (WHARF_ETCD_USER, WHARF_ETCD_PASSWORD_FILE)
  --log-level LEVEL  trace|debug|info|warn|error (WHARF_LOG_LEVEL, default info)
  --failover-seconds N
                     a host silent this long after its 20 s heartbeat grace
                     gives up its sets without a volume (WHARF_FAILOVER_SECONDS, default 30)
  --metrics-retention DURATION
                     how long the metrics agents send are kept, in the
                     servers' memory (WHARF_METRICS_RETENTION, default 1h; 1m..24h)
  --advertise-url URL
                     with --store etcd://, where the other servers sharing it reach
                     this one's API: each passes the metrics it receives on to the others
                     (WHARF_ADVERTISE_URL, default http://<host>:<port>, the host
                     name for a wildcard --host)
  --metrics-public   serve Wharf's own metrics at /metrics without a token
                     (WHARF_METRICS_PUBLIC=1; default: admin token)
  --lb haproxy|off   run HAProxy for apps that ask for a load balancer
                     (WHARF_LB, default haproxy)
  --lb-dir DIR       HAProxy's config and sockets (WHARF_LB_DIR, default <data-dir>/lb)
  --haproxy PATH     the haproxy binary (WHARF_HAPROXY, default haproxy on the PATH)
  --registry local|off
                     run the platform registry (CNCF Distribution) beside the server,
                     TLS with Wharf's CA and this server as its token issuer
                     (WHARF_REGISTRY, default local when docker-registry is installed,
                     else off)
  --registry-addr HOST:PORT
                     the registry in image names (HOST:PORT/<tenant>/<name>:<tag>) and
                     in its certificate (WHARF_REGISTRY_ADDR, default ${DEFAULT_REGISTRY_ADDR})
  --registry-listen HOST:PORT
                     where the registry listens (WHARF_REGISTRY_LISTEN, default the
                     --host address and the port of --registry-addr)
  --registry-san NAME|IP
                     another name or IP for the registry's certificate; repeatable
                     (WHARF_REGISTRY_SANS, comma-separated)
  --registry-realm URL
                     the token URL Docker clients are sent to (WHARF_REGISTRY_REALM,
                     default http://<host of --registry-addr>:<--port>/v1/registry/token)
  --docker-registry PATH
                     the docker-registry binary (WHARF_DOCKER_REGISTRY, default
                     docker-registry on the PATH)
  --registry-gc off|HH:MM|INTERVAL
                     collect the registry's garbage daily at HH:MM (local time) or
                     every INTERVAL (at least 10m, e.g. 6h), the registry read-only
                     for the few seconds it takes (WHARF_REGISTRY_GC, default ${DEFAULT_REGISTRY_GC})
  --mirror UPSTREAM_URL[=PORT]
                     also run a pull-through mirror of the registry at UPSTREAM_URL
                     (http(s)://[USER:PASSWORD@]HOST[:PORT]) on PORT (default: the
                     registry's port + 1, + 2 … in order), same CA and tokens; hosts
                     pull images named UPSTREAM_HOST/… through it; repeatable
                     (WHARF_MIRRORS, comma-separated; needs --registry local)
  --ssh-listen HOST:PORT|off
                     the SSH gateway: ssh -p PORT APPKEY/ID@SERVER opens a shell or runs a
                     command in a set's container, for users with a registered key
                     (wharf ssh-key add) and the developer role (WHARF_SSH_LISTEN,
                     default the --host address and port ${DEFAULT_SSH_PORT}; docs/ssh.md)
  --agent-tls-listen HOST:PORT|off
                     the agents' TLS listener: hosts join there with one-use tokens
                     (wharf host join-token create) and then talk to the server with
                     the certificate they got (mutual TLS, each host only as itself);
                     the server calls those agents over HTTPS with its own certificate
                     (WHARF_AGENT_TLS_LISTEN, default off: agents use the join token).
                     The main listener (--host, --port) stays plain HTTP for the CLI
                     and the console.
  --agent-tls-san NAME|IP
                     another name or IP agents reach this server by, for its certificate
                     on that listener; repeatable (WHARF_AGENT_TLS_SANS, comma-separated;
                     the listen address, 127.0.0.1, localhost and the host name are in it)
  --host-cert-days N how long a host certificate issued at a join or a renewal lasts,
                     1 to 825 (WHARF_HOST_CERT_DAYS, default 825); agents renew theirs
                     when a third of it is left
  -h, --help         show this help
  --version          print the version

On first start it creates <data-dir>/admin.token (for the CLI) and
<data-dir>/join.token (for agents), both mode 0600, and with the registry on,
its CA and certificates in <data-dir>/registry (images in <data-dir>/registry/data), and
with the SSH gateway on, its host key <data-dir>/ssh_host_ed25519_key (mode 0600, kept
across restarts; copy it to every server of a cluster so clients see one host key).
With --agent-tls-listen it also makes the cluster CA and this server's certificate in
<data-dir>/cluster-ca (keys 0600); servers sharing a store must share that CA: copy
ca.key and ca.crt to every server before its first start with the listener.`;

/** The path of a command: itself when it holds a '/', else the first match on the PATH. */
function findCommand(cmd: string): string | undefined {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : undefined;
  return (process.env.PATH ?? '').split(delimiter).filter(isAbsolute).map((d) => join(d, cmd)).find((p) => existsSync(p));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      store: { type: 'string' },
      'etcd-ca': { type: 'string' },
      'etcd-cert': { type: 'string' },
      'etcd-key': { type: 'string' },
      'etcd-user': { type: 'string' },
      'etcd-password-file': { type: 'string' },
      'log-level': { type: 'string' },
      'failover-seconds': { type: 'string' },
      'metrics-retention': { type: 'string' },
      'metrics-public': { type: 'boolean' },
      'advertise-url': { type: 'string' },
      lb: { type: 'string' },
      'lb-dir': { type: 'string' },
      haproxy: { type: 'string' },
      registry: { type: 'string' },
      'registry-addr': { type: 'string' },
      'registry-listen': { type: 'string' },
      'registry-san': { type: 'string', multiple: true },
      'registry-realm': { type: 'string' },
      'docker-registry': { type: 'string' },
      'registry-gc': { type: 'string' },
      mirror: { type: 'string', multiple: true },
      'ssh-listen': { type: 'string' },
      'agent-tls-listen': { type: 'string' },
      'agent-tls-san': { type: 'string', multiple: true },
      'host-cert-days': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(HELP);
  if (values.version) return void console.log(WHARF_VERSION);
  const env = process.env;
  const port = Number(values.port ?? env.WHARF_PORT ?? 7070);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: "${values.port ?? env.WHARF_PORT}" is not a port number`);
  const dataDir = values['data-dir'] ?? env.WHARF_DATA_DIR ?? '/var/lib/wharf';
  const store = values.store ?? env.WHARF_STORE;
  const storeKind = store ? parseStoreUrl(store).kind : 'sqlite';
  const etcdFiles = {
    ca: values['etcd-ca'] ?? env.WHARF_ETCD_CA,
    cert: values['etcd-cert'] ?? env.WHARF_ETCD_CERT,
    key: values['etcd-key'] ?? env.WHARF_ETCD_KEY,
    user: values['etcd-user'] ?? env.WHARF_ETCD_USER,
    passwordFile: values['etcd-password-file'] ?? env.WHARF_ETCD_PASSWORD_FILE,
  };
  if (storeKind !== 'etcd' && Object.values(etcdFiles).some((v) => v !== undefined)) throw new Error('--etcd-*: only with --store etcd://…');
  const etcd = await etcdAccessFromFiles(etcdFiles);
  const failoverSeconds = Number(values['failover-seconds'] ?? env.WHARF_FAILOVER_SECONDS ?? 30);
  if (!(failoverSeconds >= 0)) throw new Error(`--failover-seconds: "${values['failover-seconds'] ?? env.WHARF_FAILOVER_SECONDS}" is not a number of seconds`);
  const retentionText = values['metrics-retention'] ?? env.WHARF_METRICS_RETENTION ?? '1h';
  const metricsRetentionMs = parseDuration(retentionText);
  if (metricsRetentionMs === undefined || metricsRetentionMs < MIN_RETENTION_MS || metricsRetentionMs > MAX_RETENTION_MS) {
    throw new Error(`--metrics-retention: "${retentionText}" is not a duration from 1m to 24h (e.g. 30m, 1h, 6h)`);
  }
  const advertiseUrl = values['advertise-url'] ?? env.WHARF_ADVERTISE_URL;
  if (advertiseUrl !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(advertiseUrl)) throw new Error(`--advertise-url: "${advertiseUrl}" is not an http(s) URL of a host and port, like http://10.0.1.1:7070`);
  const metricsPublic = values['metrics-public'] === true || ['1', 'true'].includes(env.WHARF_METRICS_PUBLIC ?? '');
  const lb = values.lb ?? env.WHARF_LB ?? 'haproxy';
  if (lb !== 'haproxy' && lb !== 'off') throw new Error(`--lb: "${lb}" is not haproxy or off`);
  const lbDir = values['lb-dir'] ?? env.WHARF_LB_DIR;
  const haproxyPath = values.haproxy ?? env.WHARF_HAPROXY;
  const registryBinary = values['docker-registry'] ?? env.WHARF_DOCKER_REGISTRY ?? 'docker-registry';
  const registryFound = findCommand(registryBinary);
  const registry = values.registry ?? env.WHARF_REGISTRY ?? (registryFound ? 'local' : 'off');
  if (registry !== 'local' && registry !== 'off') throw new Error(`--registry: "${registry}" is not local or off`);
  if (registry === 'local' && !registryFound) throw new Error(`--registry local: ${registryBinary} is not installed (apt-get install docker-registry, or --docker-registry PATH)`);
  const registryAddr = values['registry-addr'] ?? env.WHARF_REGISTRY_ADDR;
  if (registryAddr) splitHostPort(registryAddr, '--registry-addr');
  const registryListen = values['registry-listen'] ?? env.WHARF_REGISTRY_LISTEN;
  if (registryListen) splitHostPort(registryListen, '--registry-listen');
  const registrySans = values['registry-san'] ?? env.WHARF_REGISTRY_SANS?.split(',').map((s) => s.trim()).filter(Boolean);
  const registryRealm = values['registry-realm'] ?? env.WHARF_REGISTRY_REALM;
  if (registryRealm && !/^https?:\/\/[^/\s]+\/\S*$/.test(registryRealm)) throw new Error(`--registry-realm: "${registryRealm}" is not an http(s) URL`);
  const mirrors = parseMirrors(values.mirror ?? (env.WHARF_MIRRORS ? [env.WHARF_MIRRORS] : []));
  if (mirrors.length > 0 && registry !== 'local') throw new Error('--mirror: the mirrors run beside the platform registry; they need --registry local');
  const registryGc = parseGcSchedule(values['registry-gc'] ?? env.WHARF_REGISTRY_GC ?? DEFAULT_REGISTRY_GC);
  const host = values.host ?? env.WHARF_HOST ?? '127.0.0.1';
  const sshListen = values['ssh-listen'] ?? env.WHARF_SSH_LISTEN;
  const ssh = sshListen === 'off' ? undefined : sshListen ? splitHostPort(sshListen, '--ssh-listen') : { host, port: DEFAULT_SSH_PORT };
  const agentTlsListen = values['agent-tls-listen'] ?? env.WHARF_AGENT_TLS_LISTEN ?? 'off';
  const agentTlsSans = values['agent-tls-san'] ?? env.WHARF_AGENT_TLS_SANS?.split(',').map((s) => s.trim()).filter(Boolean);
  if (agentTlsSans?.length && agentTlsListen === 'off') throw new Error('--agent-tls-san: only with --agent-tls-listen HOST:PORT');
  const certDaysRaw = values['host-cert-days'] ?? env.WHARF_HOST_CERT_DAYS;
  if (certDaysRaw !== undefined && agentTlsListen === 'off') throw new Error('--host-cert-days: only with --agent-tls-listen HOST:PORT');
  const hostCertDays = certDaysRaw === undefined ? undefined : Number(certDaysRaw);
  if (hostCertDays !== undefined && !(Number.isInteger(hostCertDays) && hostCertDays >= 1 && hostCertDays <= LEAF_DAYS)) {
    throw new Error(`--host-cert-days must be a whole number of days from 1 to ${LEAF_DAYS}, not "${certDaysRaw}"`);
  }
  const agentTls = agentTlsListen === 'off' ? undefined : {
    ...splitHostPort(agentTlsListen, '--agent-tls-listen'), ...(agentTlsSans?.length ? { sans: agentTlsSans } : {}), ...(hostCertDays ? { hostCertDays } : {}),
  };
  const server = await startServer({
    host,
    port,
    dataDir,
    ...(store ? { store, etcd } : {}),
    logLevel: values['log-level'] ?? env.WHARF_LOG_LEVEL ?? 'info',
    failoverSeconds,
    metricsRetentionMs,
    metricsPublic,
    ...(advertiseUrl ? { advertiseUrl } : {}),
    lb,
    ...(lbDir ? { lbDir } : {}),
    ...(haproxyPath ? { haproxyPath } : {}),
    registry,
    ...(registry === 'local' && registryFound ? { dockerRegistryPath: registryFound } : {}),
    ...(registryAddr ? { registryAddr } : {}),
    ...(registryListen ? { registryListen } : {}),
    ...(registrySans?.length ? { registrySans } : {}),
    ...(registryRealm ? { registryRealm } : {}),
    registryGc,
    ...(mirrors.length > 0 ? { registryMirrors: mirrors } : {}),
    ...(ssh ? { ssh } : {}),
    ...(agentTls ? { agentTls } : {}),
  });
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`wharf-server: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
