/** Test data: a plausible SetView, Host, network and policy, overridable field by field. */
import type { ContainerStatus, Host, NetworkPolicy, NetworkView, SetView } from '@wharf/types';

export const T0 = Date.parse('2025-01-01T12:00:00.000Z');

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function container(over: Partial<ContainerStatus> = {}): ContainerStatus {
  return { name: 'app', role: 'business', index: 1, image: 'wharf/busybox:latest', state: 'running', restartCount: 0, ...over };
}

export function makeSet(over: Partial<SetView> = {}): SetView {
  return {
    tenant: 'default',
    appkey: 'com.x',
    id: '1',
    generation: 1,
    observedGeneration: 1,
    desired: 'running',
    status: 'running',
    ready: true,
    host: 'h1',
    resources: { cpu: 2, memory: 1024 ** 3, disk: 10 * 1024 ** 3 },
    ips: [{ network: 'net1', ip: '10.99.0.5' }],
    containers: [
      container({ name: 'infra', role: 'infra', index: 0, image: 'wharf/busybox:latest', containerId: 'aaaaaaaaaaaaaaaaaaaa', startedAt: iso(T0 - 60_000) }),
      container({ name: 'web', index: 1, image: 'nginx:1', containerId: 'bbbbbbbbbbbbbbbbbbbb', startedAt: iso(T0 - 60_000), nanoCpus: 1_600_000_000, memory: 512 * 1024 ** 2 }),
      container({ name: 'log', index: 2, image: 'fluent:2', containerId: 'cccccccccccccccccccc', startedAt: iso(T0 - 60_000), nanoCpus: 400_000_000, memory: 128 * 1024 ** 2 }),
    ],
    spec: {
      appkey: 'com.x',
      id: 1,
      resources: { cpu: 2, memory: '1Gi', disk: '10Gi' },
      containers: [
        { index: 2, image: 'fluent:2', options: { name: 'log', cpu: 20 } },
        { index: 1, image: 'nginx:1', options: { name: 'web', cpu: 80, volumes: [{ path: '/data', quota: 10 }] } },
      ],
    },
    createdAt: iso(T0 - 3_600_000),
    updatedAt: iso(T0 - 60_000),
    ...over,
  };
}

export function makeHost(over: Partial<Host> = {}): Host {
  return {
    name: 'h1',
    zone: 'dc1',
    rack: 'r1',
    labels: { ssd: 'true' },
    capacity: { cpu: 8, memory: 16 * 1024 ** 3, disk: 100 * 1024 ** 3, bandwidth: 10_000 },
    agentUrl: 'http://127.0.0.1:7071',
    agentVersion: '0.1.0',
    dockerVersion: '20.10.24',
    state: 'ready',
    cordoned: false,
    draining: false,
    lastHeartbeat: iso(T0 - 3_000),
    registeredAt: iso(T0 - 2 * 86_400_000),
    allocated: { cpu: 2.5, memory: 4 * 1024 ** 3, disk: 10 * 1024 ** 3, bandwidth: 2_500 },
    sets: 3,
    networks: [{ name: 'net1', uplink: 'eth0' }],
    ...over,
  };
}

export function makeNetwork(over: Partial<NetworkView> = {}): NetworkView {
  return {
    name: 'net1',
    subnet: '10.99.0.0/24',
    gateway: '10.99.0.1',
    createdAt: iso(T0 - 86_400_000),
    rangeStart: '10.99.0.1',
    rangeEnd: '10.99.0.254',
    size: 253,
    used: 1,
    free: 252,
    hosts: ['h1'],
    ...over,
  };
}

export function makePolicy(over: Partial<NetworkPolicy> = {}): NetworkPolicy {
  return {
    tenant: 'default',
    name: 'allow-lb',
    appkey: 'com.x',
    ingress: [{ from: [{ app: 'com.lb' }, { cidr: '10.0.0.0/8' }], ports: [{ port: 8080 }, { port: 53, protocol: 'udp' }] }],
    createdAt: iso(T0 - 600_000),
    updatedAt: iso(T0 - 60_000),
    ...over,
  };
}
