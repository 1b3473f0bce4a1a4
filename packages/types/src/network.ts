/**
 * Platform networks, their IP allocations, per-app network policies, and what an
 * agent needs to wire a set into a network. The server's IPAM hands out addresses
 * from a network's range; agents attach sets with Docker's macvlan driver on the
 * host uplink that reaches the network (no overlay, no NAT).
 */
import { Type, type Static } from '@sinclair/typebox';
import { APPKEY_PATTERN, CIDR_PATTERN, IFACE_PATTERN, IPV4_PATTERN, NETWORK_NAME_PATTERN, TENANT_PATTERN } from './patterns.js';

export const NetworkSpec = Type.Object(
  {
    name: Type.String({ pattern: NETWORK_NAME_PATTERN, description: 'Lowercase letters, digits and "-", at most 24' }),
    subnet: Type.String({ pattern: CIDR_PATTERN, description: 'IPv4 subnet, e.g. 10.99.0.0/24' }),
    gateway: Type.String({ pattern: IPV4_PATTERN, description: 'The router of the subnet' }),
    range: Type.Optional(Type.String({ description: 'Addresses the IPAM hands out, "first-last" (default: the whole subnet but network, gateway and broadcast)' })),
    zone: Type.Optional(Type.String({ minLength: 1, description: 'Only hosts of this zone attach to it' })),
    vlan: Type.Optional(Type.Integer({ minimum: 1, maximum: 4094, description: '802.1Q tag: hosts attach through <uplink>.<vlan>' })),
    default: Type.Optional(Type.Boolean({ description: 'Sets that name no network get their IP here' })),
  },
  { additionalProperties: false, $id: 'NetworkSpec' },
);
export type NetworkSpec = Static<typeof NetworkSpec>;

export const NetworkObject = Type.Composite([NetworkSpec, Type.Object({ createdAt: Type.String() })]);
export type NetworkObject = Static<typeof NetworkObject>;

/** One address held by a set (the value of an IPAM key). */
export const IpAllocation = Type.Object({
  network: Type.String(),
  ip: Type.String(),
  tenant: Type.String(),
  appkey: Type.String(),
  id: Type.String(),
  /** The set's first address (the one `get sets -o wide` shows). */
  primary: Type.Boolean(),
  allocatedAt: Type.String(),
});
export type IpAllocation = Static<typeof IpAllocation>;

export const NetworkView = Type.Composite([
  NetworkObject,
  Type.Object({
    /** First and last address the IPAM hands out. */
    rangeStart: Type.String(),
    rangeEnd: Type.String(),
    size: Type.Integer(),
    used: Type.Integer(),
    free: Type.Integer(),
    /** Hosts that declare they reach the network (and are in its zone). */
    hosts: Type.Array(Type.String()),
    /** Present on `GET /v1/networks/:name`. */
    allocations: Type.Optional(Type.Array(IpAllocation)),
  }),
]);
export type NetworkView = Static<typeof NetworkView>;

/** How a host reaches a network: through which uplink interface. */
export const HostNetwork = Type.Object(
  {
    name: Type.String({ pattern: NETWORK_NAME_PATTERN }),
    uplink: Type.String({ pattern: IFACE_PATTERN }),
  },
  { additionalProperties: false },
);
export type HostNetwork = Static<typeof HostNetwork>;

/** `wharf host set`: overrides what the agent declares (null: back to the agent's own). */
export const HostSettingsPatch = Type.Object(
  {
    networks: Type.Optional(Type.Union([Type.Array(HostNetwork), Type.Null()])),
    bandwidth: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0, description: 'Uplink capacity, Mbit/s per direction' }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type HostSettingsPatch = Static<typeof HostSettingsPatch>;

/** One of a set's addresses, as the IPAM gave it. The first is the primary. */
export const SetIp = Type.Object({ network: Type.String(), ip: Type.String() });
export type SetIp = Static<typeof SetIp>;

export const PolicyPort = Type.Object(
  {
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    protocol: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp')])),
  },
  { additionalProperties: false },
);
export type PolicyPort = Static<typeof PolicyPort>;

export const PolicyPeer = Type.Object(
  {
    app: Type.Optional(Type.String({ pattern: APPKEY_PATTERN, description: "Every set of this appkey" })),
    tenant: Type.Optional(Type.String({ pattern: TENANT_PATTERN, description: "The app's tenant (default: the policy's)" })),
    cidr: Type.Optional(Type.String({ pattern: CIDR_PATTERN, description: 'Any address in this IPv4 block' })),
  },
  { additionalProperties: false },
);
export type PolicyPeer = Static<typeof PolicyPeer>;

/** Extra traffic an app's sets accept, beyond their own tenant's. */
export const NetworkPolicySpec = Type.Object(
  {
    name: Type.String({ pattern: NETWORK_NAME_PATTERN }),
    appkey: Type.String({ pattern: APPKEY_PATTERN, description: 'The app whose sets this policy opens' }),
    ingress: Type.Array(
      Type.Object(
        {
          from: Type.Array(PolicyPeer, { minItems: 1 }),
          ports: Type.Optional(Type.Array(PolicyPort, { description: 'Only these ports (default: all)' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false, $id: 'NetworkPolicySpec' },
);
export type NetworkPolicySpec = Static<typeof NetworkPolicySpec>;

export const NetworkPolicy = Type.Composite([NetworkPolicySpec, Type.Object({ tenant: Type.String(), createdAt: Type.String(), updatedAt: Type.String() })]);
export type NetworkPolicy = Static<typeof NetworkPolicy>;

/** What an agent needs to attach sets to a network on its host. */
export const NetworkAttachment = Type.Object({
  name: Type.String(),
  subnet: Type.String(),
  gateway: Type.String(),
  vlan: Type.Optional(Type.Integer()),
  uplink: Type.String(),
});
export type NetworkAttachment = Static<typeof NetworkAttachment>;

/**
 * Traffic a set accepts: from these sources (and ports); everything else is dropped.
 * A source is a CIDR block, or a named group of addresses (the sets of a tenant or of
 * an app) that the desired-state answer carries once for all its sets.
 */
export const FirewallRule = Type.Object({
  cidr: Type.Optional(Type.String()),
  group: Type.Optional(Type.String()),
  ports: Type.Optional(Type.Array(PolicyPort)),
});
export type FirewallRule = Static<typeof FirewallRule>;

export const SetFirewall = Type.Object({ allow: Type.Array(FirewallRule) });
export type SetFirewall = Static<typeof SetFirewall>;

/** Named lists of CIDR blocks that firewall rules refer to by `group`. */
export const AddressGroups = Type.Record(Type.String(), Type.Array(Type.String()));
export type AddressGroups = Static<typeof AddressGroups>;

/** The groups `fw` refers to. */
export function firewallGroups(fw: SetFirewall | undefined): string[] {
  return [...new Set((fw?.allow ?? []).flatMap((r) => (r.group !== undefined ? [r.group] : [])))];
}

/**
 * `fw` with every group rule replaced by one rule per address of the group (same
 * ports), in order. Throws when a rule names a group `groups` lacks, or has neither
 * or both of cidr and group.
 */
export function expandFirewall(fw: SetFirewall, groups: AddressGroups): SetFirewall {
  const allow: FirewallRule[] = [];
  for (const r of fw.allow) {
    const ports = r.ports ? { ports: r.ports } : {};
    if ((r.cidr === undefined) === (r.group === undefined)) throw new Error(`firewall rule ${JSON.stringify(r)} needs a cidr or a group`);
    if (r.cidr !== undefined) {
      allow.push({ cidr: r.cidr, ...ports });
      continue;
    }
    const members = groups[r.group as string];
    if (!members) throw new Error(`firewall rule names address group "${r.group}", which the desired state does not carry`);
    for (const cidr of members) allow.push({ cidr, ...ports });
  }
  return { allow };
}
