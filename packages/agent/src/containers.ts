/**
 * What Docker should run for a set: container names, labels, create configs and the
 * spec hash that tells the planner whether an existing container still matches.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  DROPPED_CAPABILITIES,
  INFRA_NAME,
  Labels,
  NO_NEW_PRIVILEGES,
  setRef,
  type ContainerRole,
  type ResolvedContainer,
  type ResolvedProbe,
  type ResolvedSet,
  type RestartPolicy,
  type SetIp,
  type SetObject,
} from '@wharf/types';
import type { ContainerConfig } from './docker/engine.js';
import { dockerNetworkName } from './network/docker-networks.js';
import type { InfraPrivilege } from './privilege.js';

export interface SetIdentity {
  tenant: string;
  appkey: string;
  id: string;
}

/** The infra container sleeps forever but exits at once on SIGTERM (PID 1 has no default handler). */
export const INFRA_COMMAND = ['sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"];
/** Where the set's volume appears in the infra container. */
export const INFRA_VOLUME_PATH = '/volume';
/** Stands for the infra container's ID in business configs until it is known; keeps the hash stable. */
export const INFRA_REF = '{infra}';

export interface DesiredContainer {
  name: string;
  role: ContainerRole;
  /** -1 for the infra container. */
  index: number;
  image: string;
  specHash: string;
  /** Infra of a set with platform IPs: Docker network → its fixed address there (see endpointsOf). */
  endpoints?: Record<string, string>;
  /** Business containers refer to the infra container as INFRA_REF; see withInfraId. */
  config: ContainerConfig;
  /** Business containers: CPU and memory, applied online with `docker update` (not in the hash). */
  limits?: Limits;
  /** Business containers: what the agent does when it exits, and its probes (not in the hash). */
  health?: ContainerHealthSpec;
}

export interface Limits {
  nanoCpus: number;
  memory: number;
}

export interface ContainerHealthSpec {
  restartPolicy: RestartPolicy;
  liveness?: ResolvedProbe;
  readiness?: ResolvedProbe;
}

export interface DesiredSet extends SetIdentity {
  ref: string;
  generation: number;
  volumePath: string;
  /** Infra first, then business containers by index: the start order. */
  containers: DesiredContainer[];
}

export interface HostSettings {
  dataDir: string;
  infraImage: string;
  /** Default: privileged. */
  infraPrivilege?: InfraPrivilege;
}

export function containerName(set: SetIdentity, name: string): string {
  return [set.tenant, set.appkey, set.id, name].map((p) => p.replace(/[^A-Za-z0-9_.-]/g, '-')).join('_');
}

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** `<data-dir>/volumes/<tenant>/<appkey>/<id>`; throws on a segment that could escape the directory. */
export function volumePath(dataDir: string, set: SetIdentity): string {
  for (const segment of [set.tenant, set.appkey, set.id]) {
    if (!SAFE_SEGMENT.test(segment)) throw new Error(`"${segment}" cannot be used as a volume directory name`);
  }
  return join(dataDir, 'volumes', set.tenant, set.appkey, set.id);
}

function identityLabels(set: SetIdentity, generation: number): Record<string, string> {
  return {
    [Labels.managed]: 'true',
    [Labels.tenant]: set.tenant,
    [Labels.set]: setRef(set),
    [Labels.app]: set.appkey,
    [Labels.setId]: set.id,
    [Labels.generation]: String(generation),
  };
}

function portKey(p: { containerPort: number; protocol?: 'tcp' | 'udp' }): string {
  return `${p.containerPort}/${p.protocol ?? 'tcp'}`;
}

/**
 * The infra container of a set with platform IPs lives on the Docker network of its
 * primary IP, with that fixed address. Nothing is published: without NAT there is
 * nothing to publish to, the set's ports are open on its own IPs.
 */
function infraConfig(set: SetIdentity, resolved: ResolvedSet, generation: number, host: HostSettings, volume: string, platformIps: SetIp[]): ContainerConfig {
  const primary = platformIps[0];
  const ports = primary ? [] : resolved.containers
    .flatMap((c) => c.ports)
    .map((p) => ({ port: portKey(p), ...(p.hostPort !== undefined ? { hostPort: p.hostPort } : {}) }))
    .sort((a, b) => a.port.localeCompare(b.port));
  return {
    dockerName: containerName(set, INFRA_NAME),
    image: host.infraImage,
    cmd: INFRA_COMMAND,
    env: [],
    labels: { ...identityLabels(set, generation), [Labels.index]: '-1', [Labels.name]: INFRA_NAME, [Labels.role]: 'infra' },
    ports,
    ...(host.infraPrivilege ?? { privileged: true }),
    ipcMode: 'shareable',
    networkMode: primary ? dockerNetworkName(primary.network) : 'default',
    ...(primary ? { ips: platformIps.map((x) => ({ network: dockerNetworkName(x.network), ip: x.ip })) } : {}),
    binds: [`${volume}:${INFRA_VOLUME_PATH}`],
    restartPolicy: 'unless-stopped',
  };
}

function businessConfig(set: SetIdentity, c: ResolvedContainer, generation: number, volume: string): ContainerConfig {
  return {
    dockerName: containerName(set, c.name),
    image: c.image,
    ...(c.entrypoint ? { entrypoint: c.entrypoint, cmd: c.args ?? [] } : {}),
    env: Object.keys(c.env).sort().map((k) => `${k}=${c.env[k]}`),
    labels: {
      ...c.labels,
      ...identityLabels(set, generation),
      [Labels.index]: String(c.index),
      [Labels.name]: c.name,
      [Labels.role]: 'business',
    },
    ports: [],
    ...businessHardening(c),
    ipcMode: `container:${INFRA_REF}`,
    networkMode: `container:${INFRA_REF}`,
    nanoCpus: c.nanoCpus,
    memory: c.memoryBytes,
    memorySwap: c.memoryBytes,
    binds: [...new Set(c.volumePaths)].map((p) => `${volume}:${p}`),
    // The agent restarts business containers itself, per the spec's restart policy.
    restartPolicy: 'no',
  };
}

/**
 * Never privileged; no-new-privileges and Docker's default capabilities less
 * DROPPED_CAPABILITIES, unless the spec adds some back or turns no-new-privileges off.
 * Docker's default seccomp profile applies (no seccomp option is passed).
 */
function businessHardening(c: ResolvedContainer): Pick<ContainerConfig, 'privileged' | 'capAdd' | 'capDrop' | 'securityOpt'> {
  const { capAdd, noNewPrivileges } = c.security;
  return {
    privileged: false,
    ...(capAdd.length > 0 ? { capAdd } : {}),
    capDrop: DROPPED_CAPABILITIES.filter((cap) => !capAdd.includes(cap)),
    ...(noNewPrivileges ? { securityOpt: [NO_NEW_PRIVILEGES] } : {}),
  };
}

/**
 * The part of a config the spec hash covers. A business container's default hardening
 * (the dropped capabilities, no-new-privileges) is left out; only what its spec asks
 * beyond it is in: `capAdd`, and `noNewPrivileges: false` when turned off. Business
 * containers created before the hardening existed thus hash as they did, and an agent
 * upgrade recreates none of them: they run with Docker's defaults until their spec
 * changes (or they are recreated for another reason), and are then created hardened.
 */
function hashedConfig(config: ContainerConfig): Omit<ContainerConfig, 'nanoCpus' | 'memory' | 'memorySwap'> & { noNewPrivileges?: false } {
  const { nanoCpus: _cpu, memory: _memory, memorySwap: _swap, ...rest } = config;
  if (config.labels[Labels.role] !== 'business') return rest;
  const { capDrop: _drop, securityOpt, ...asked } = rest;
  return securityOpt?.includes(NO_NEW_PRIVILEGES) ? asked : { ...asked, noNewPrivileges: false };
}

/** JSON with sorted keys and no undefined values, so equal configs hash equally on every run. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * sha256 of the effective config. Left out: the generation label (a new generation
 * that does not change this container must not recreate it), the CPU and memory
 * limits (changed online with `docker update`, see the planner's update action) and
 * business containers' default hardening (see hashedConfig).
 */
export function specHash(config: ContainerConfig): string {
  const labels = { ...config.labels };
  delete labels[Labels.generation];
  delete labels[Labels.specHash];
  return createHash('sha256').update(`v2\n${canonicalJson({ ...hashedConfig(config), labels })}`).digest('hex');
}

/** The first IP on each Docker network: the addresses Docker gives the container (the rest are secondary). */
export function endpointsOf(ips: { network: string; ip: string }[]): Record<string, string> {
  const endpoints: Record<string, string> = {};
  for (const x of ips) if (!(x.network in endpoints)) endpoints[x.network] = x.ip;
  return endpoints;
}

function withHash(name: string, role: ContainerRole, index: number, config: ContainerConfig): DesiredContainer {
  const hash = specHash(config);
  return {
    name,
    role,
    index,
    image: config.image,
    specHash: hash,
    ...(config.ips?.length ? { endpoints: endpointsOf(config.ips) } : {}),
    config: { ...config, labels: { ...config.labels, [Labels.specHash]: hash } },
  };
}

function business(set: SetIdentity, c: ResolvedContainer, generation: number, volume: string): DesiredContainer {
  const health: ContainerHealthSpec = {
    restartPolicy: c.restartPolicy,
    ...(c.liveness ? { liveness: c.liveness } : {}),
    ...(c.readiness ? { readiness: c.readiness } : {}),
  };
  return { ...withHash(c.name, 'business', c.index, businessConfig(set, c, generation, volume)), limits: { nanoCpus: c.nanoCpus, memory: c.memoryBytes }, health };
}

/** The containers a set should have on this host, infra first, then by index. */
export function desiredSet(set: SetObject, resolved: ResolvedSet, host: HostSettings): DesiredSet {
  const identity: SetIdentity = { tenant: set.tenant, appkey: set.appkey, id: set.id };
  const volume = volumePath(host.dataDir, identity);
  const containers = [
    withHash(INFRA_NAME, 'infra', -1, infraConfig(identity, resolved, set.generation, host, volume, set.ips ?? [])),
    ...[...resolved.containers]
      .sort((a, b) => a.index - b.index)
      .map((c) => business(identity, c, set.generation, volume)),
  ];
  return { ...identity, ref: setRef(identity), generation: set.generation, volumePath: volume, containers };
}

/** The business config with INFRA_REF replaced by the infra container's ID. */
export function withInfraId(config: ContainerConfig, infraId: string): ContainerConfig {
  const swap = (mode: string): string => mode.replace(INFRA_REF, infraId);
  return { ...config, ipcMode: swap(config.ipcMode), networkMode: swap(config.networkMode) };
}
