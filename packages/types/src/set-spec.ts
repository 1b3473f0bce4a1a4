/**
 * The set spec: the seed's JSON ("图 6") accepted verbatim, plus `resources`
 * (the set's size) and per-container `env`, `ports` and `labels` in `options`.
 * The TypeBox schema below is the single source for validation and OpenAPI.
 */
import { Type, type Static } from '@sinclair/typebox';

import { APPKEY_PATTERN, IPV4_PATTERN, NAME_PATTERN, NETWORK_NAME_PATTERN } from './patterns.js';
import { ProbeSpec, RestartPolicy } from './probe.js';
import { ContainerSecuritySpec } from './security.js';

/** "512Mi", "1Gi", "2G" or a number (bytes; GiB for a volume quota). */
export const Quantity = Type.Union([Type.String({ minLength: 1 }), Type.Number({ minimum: 0 })], {
  description: 'A size such as "512Mi", "1Gi", "2G"',
});

export const VolumeSpec = Type.Object(
  {
    path: Type.String({ pattern: '^/', description: 'Mount path inside the container (absolute)' }),
    quota: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.String({ minLength: 1 })], {
      description: 'Volume quota: GiB when a bare number, or a size such as "10Gi"',
    })),
  },
  { additionalProperties: false },
);

export const PortSpec = Type.Object(
  {
    containerPort: Type.Integer({ minimum: 1, maximum: 65535 }),
    hostPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    protocol: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp')])),
  },
  { additionalProperties: false },
);

export const CommandSpec = Type.Object(
  {
    cmd: Type.String({ minLength: 1, description: 'Executable (becomes the entrypoint)' }),
    args: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

export const ContainerOptions = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'Unique within the set; not "infra"' }),
    cpu: Type.Optional(Type.Number({ minimum: 1, maximum: 100, description: "Percent of the set's CPU cores" })),
    mem: Type.Optional(Type.Number({ minimum: 1, maximum: 100, description: "Percent of the set's memory" })),
    volumes: Type.Optional(Type.Array(VolumeSpec)),
    command: Type.Optional(CommandSpec),
    env: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String())),
    ports: Type.Optional(Type.Array(PortSpec)),
    labels: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
    /** Failing it restarts the container. */
    liveness: Type.Optional(ProbeSpec),
    /** Until it passes, the container (and its set) is not ready. */
    readiness: Type.Optional(ProbeSpec),
    restartPolicy: Type.Optional(RestartPolicy),
    /** Capabilities added back, no-new-privileges turned off (see security.ts). */
    security: Type.Optional(ContainerSecuritySpec),
  },
  { additionalProperties: false },
);

export const ContainerSpec = Type.Object(
  {
    index: Type.Integer({ minimum: 0, maximum: 1000, description: 'Start order (ascending)' }),
    image: Type.String({ minLength: 1 }),
    options: ContainerOptions,
  },
  { additionalProperties: false },
);

/** Mbit/s: one number for both directions, or each on its own. */
export const BandwidthSpec = Type.Union([
  Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
  Type.Object(
    {
      egress: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, description: 'Mbit/s the set may send' })),
      ingress: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, description: 'Mbit/s the set may receive' })),
    },
    { additionalProperties: false },
  ),
], { description: 'Bandwidth limit in Mbit/s (a number for both directions, or {egress, ingress})' });

export const ResourcesSpec = Type.Object(
  {
    cpu: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1024, description: 'CPU cores (default 1)' })),
    memory: Type.Optional(Quantity),
    disk: Type.Optional(Quantity),
    bandwidth: Type.Optional(BandwidthSpec),
  },
  { additionalProperties: false },
);

export const PlacementSpec = Type.Object(
  {
    strategy: Type.Optional(Type.Union([Type.Literal('spread'), Type.Literal('binpack')], {
      description: 'spread: prefer emptier hosts (default); binpack: fill a host before the next',
    })),
    zones: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Only hosts in these zones' })),
    hostSelector: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String(), { description: 'Only hosts with all these labels' })),
    spread: Type.Optional(Type.Object(
      {
        by: Type.Union([Type.Literal('host'), Type.Literal('rack'), Type.Literal('zone')]),
        mode: Type.Optional(Type.Union([Type.Literal('hard'), Type.Literal('soft')], { description: 'hard: never exceed maxSkew; soft (default): prefer' })),
        maxSkew: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Allowed difference in sets of this appkey between domains (default 1)' })),
      },
      { additionalProperties: false, description: "Spread this appkey's sets across hosts, racks or zones" },
    )),
    sameZoneAs: Type.Optional(Type.Array(Type.String({ pattern: APPKEY_PATTERN }), { minItems: 1, description: 'Run in a zone where these appkeys run' })),
    relocatable: Type.Optional(Type.Boolean({ description: 'May be moved to another host although it has a volume (its data stays behind)' })),
  },
  { additionalProperties: false },
);
export type PlacementSpec = Static<typeof PlacementSpec>;

export const SetNetworkSpec = Type.Object(
  {
    name: Type.Optional(Type.String({ pattern: NETWORK_NAME_PATTERN, description: 'Network of the primary IP (default: the default network)' })),
    ip: Type.Optional(Type.String({ pattern: IPV4_PATTERN, description: 'A fixed primary IP (default: the IPAM picks one)' })),
    extra: Type.Optional(Type.Array(
      Type.Object(
        {
          network: Type.Optional(Type.String({ pattern: NETWORK_NAME_PATTERN, description: "Default: the primary IP's network" })),
          ip: Type.Optional(Type.String({ pattern: IPV4_PATTERN })),
        },
        { additionalProperties: false },
      ),
      { maxItems: 8, description: 'More IPs for the set, on the same or other networks' },
    )),
  },
  { additionalProperties: false, description: "The set's platform IPs: they stay with the set across restarts and moves" },
);
export type SetNetworkSpec = Static<typeof SetNetworkSpec>;

export const SetSpec = Type.Object(
  {
    version: Type.Optional(Type.String()),
    id: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: NAME_PATTERN })], {
      description: 'Set id, unique within the appkey',
    }),
    appkey: Type.String({ pattern: APPKEY_PATTERN }),
    resources: Type.Optional(ResourcesSpec),
    placement: Type.Optional(PlacementSpec),
    network: Type.Optional(SetNetworkSpec),
    containers: Type.Array(ContainerSpec, { minItems: 1, maxItems: 32 }),
  },
  { additionalProperties: false, $id: 'SetSpec' },
);

export type SetSpec = Static<typeof SetSpec>;
export type ContainerSpec = Static<typeof ContainerSpec>;
export type PortSpec = Static<typeof PortSpec>;
