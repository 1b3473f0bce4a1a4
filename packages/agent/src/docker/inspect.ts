/** Decoding Docker's inspect and event payloads into the agent's types (pure). */
import type Dockerode from 'dockerode';
import { Labels, type ContainerState } from '@wharf/types';
import { dockerTime } from '../time.js';
import type { ContainerConfig, EngineEvent, ManagedContainer, NetworkConfig, ObservedContainer, ObservedNetwork } from './engine.js';

const STATES: ReadonlySet<string> = new Set(['created', 'running', 'restarting', 'paused', 'exited', 'dead', 'removing']);

function labelInt(labels: Record<string, string>, key: string): number | undefined {
  const v = labels[key];
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

/** The set identity from a container's labels; undefined for containers Wharf does not manage. */
export function managedFromLabels(id: string, labels: Record<string, string> | undefined): ManagedContainer | undefined {
  if (!labels || labels[Labels.managed] !== 'true') return undefined;
  const setRef = labels[Labels.set];
  if (!setRef) return undefined;
  const [tenant = '', appkey = '', setId = ''] = setRef.split('/');
  return { id, setRef, tenant: labels[Labels.tenant] ?? tenant, appkey: labels[Labels.app] ?? appkey, setId: labels[Labels.setId] ?? setId };
}

export function toObserved(info: Dockerode.ContainerInspectInfo): ObservedContainer | undefined {
  const labels = info.Config?.Labels ?? {};
  const managed = managedFromLabels(info.Id, labels);
  if (!managed) return undefined;
  const role = labels[Labels.role] === 'infra' ? 'infra' : 'business';
  const status = info.State?.Status ?? 'created';
  const host = info.HostConfig ?? {};
  const o: ObservedContainer = {
    ...managed,
    dockerName: info.Name.replace(/^\//, ''),
    name: labels[Labels.name] ?? info.Name,
    role,
    index: labelInt(labels, Labels.index) ?? (role === 'infra' ? -1 : 0),
    image: info.Config?.Image ?? info.Image,
    state: (STATES.has(status) ? status : 'dead') as Exclude<ContainerState, 'missing'>,
    oomKilled: info.State?.OOMKilled ?? false,
    restartCount: info.RestartCount ?? 0,
  };
  const hash = labels[Labels.specHash];
  if (hash) o.specHash = hash;
  const generation = labelInt(labels, Labels.generation);
  if (generation !== undefined) o.generation = generation;
  if (info.State && typeof info.State.ExitCode === 'number') o.exitCode = info.State.ExitCode;
  const startedAt = dockerTime(info.State?.StartedAt);
  if (startedAt) o.startedAt = startedAt;
  const finishedAt = dockerTime(info.State?.FinishedAt);
  if (finishedAt) o.finishedAt = finishedAt;
  if (info.State?.Error) o.error = info.State.Error;
  if (host.NetworkMode) o.networkMode = host.NetworkMode;
  const networks = info.NetworkSettings?.Networks;
  if (networks && Object.keys(networks).length > 0) {
    o.endpoints = Object.fromEntries(Object.entries(networks).map(([name, n]) => [name, (n as { IPAMConfig?: { IPv4Address?: string } | null }).IPAMConfig?.IPv4Address ?? '']));
  }
  if (o.state === 'running' && typeof info.State?.Pid === 'number' && info.State.Pid > 0) o.pid = info.State.Pid;
  if (host.NanoCpus) o.nanoCpus = host.NanoCpus;
  if (host.Memory) o.memory = host.Memory;
  return o;
}

/** The Docker create body for a ContainerConfig. */
export function toCreateOptions(c: ContainerConfig): Dockerode.ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostPort: string }[]> = {};
  for (const p of c.ports) {
    exposed[p.port] = {};
    bindings[p.port] = [{ HostPort: p.hostPort !== undefined ? String(p.hostPort) : '' }];
  }
  return {
    name: c.dockerName,
    Image: c.image,
    ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
    ...(c.cmd ? { Cmd: c.cmd } : {}),
    Env: c.env,
    Labels: c.labels,
    ...(c.ports.length > 0 ? { ExposedPorts: exposed } : {}),
    ...(c.ips?.length ? { NetworkingConfig: { EndpointsConfig: { [c.networkMode]: { IPAMConfig: { IPv4Address: endpointIp(c) } } } } } : {}),
    HostConfig: {
      Privileged: c.privileged,
      ...(c.capAdd ? { CapAdd: c.capAdd } : {}),
      ...(c.capDrop ? { CapDrop: c.capDrop } : {}),
      ...(c.securityOpt ? { SecurityOpt: c.securityOpt } : {}),
      IpcMode: c.ipcMode,
      NetworkMode: c.networkMode,
      ...(c.ports.length > 0 ? { PortBindings: bindings } : {}),
      ...(c.nanoCpus !== undefined ? { NanoCpus: c.nanoCpus } : {}),
      ...(c.memory !== undefined ? { Memory: c.memory } : {}),
      ...(c.memorySwap !== undefined ? { MemorySwap: c.memorySwap } : {}),
      Binds: c.binds,
      RestartPolicy: { Name: c.restartPolicy },
    },
  };
}

/** The address a container with platform IPs gets at create time: its first IP on its network mode's network. */
function endpointIp(c: ContainerConfig): string {
  const ip = c.ips?.find((x) => x.network === c.networkMode)?.ip;
  if (!ip) throw new Error(`${c.dockerName}: no IP on its network ${c.networkMode}`);
  return ip;
}

/** The create body of a macvlan network. */
export function toNetworkCreateOptions(c: NetworkConfig): Dockerode.NetworkCreateOptions {
  return {
    Name: c.name,
    Driver: 'macvlan',
    CheckDuplicate: true,
    IPAM: { Driver: 'default', Config: [{ Subnet: c.subnet, Gateway: c.gateway }] },
    Options: { parent: c.parent },
    Labels: c.labels,
  };
}

interface RawNetwork {
  Id?: string;
  Name?: string;
  Driver?: string;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** A network of Docker's list or inspect answer. */
export function toObservedNetwork(raw: RawNetwork): ObservedNetwork {
  const n: ObservedNetwork = {
    id: raw.Id ?? '',
    name: raw.Name ?? '',
    driver: raw.Driver ?? '',
    subnets: (raw.IPAM?.Config ?? []).filter((c) => c.Subnet).map((c) => ({ subnet: c.Subnet as string, ...(c.Gateway ? { gateway: c.Gateway } : {}) })),
    labels: raw.Labels ?? {},
  };
  const parent = raw.Options?.parent;
  if (parent) n.parent = parent;
  return n;
}

interface RawEvent {
  Type?: string;
  Action?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** One line of Docker's event stream; undefined for anything but container events. */
export function toEngineEvent(raw: RawEvent): EngineEvent | undefined {
  if (raw.Type !== 'container' || !raw.Action) return undefined;
  const attrs = raw.Actor?.Attributes ?? {};
  const e: EngineEvent = { action: raw.Action, containerId: raw.Actor?.ID ?? raw.id ?? '', labels: attrs };
  if (attrs.exitCode !== undefined && /^\d+$/.test(attrs.exitCode)) e.exitCode = Number(attrs.exitCode);
  return e;
}
