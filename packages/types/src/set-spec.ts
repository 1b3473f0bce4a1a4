/**
 * The set spec: the seed's JSON ("图 6") accepted verbatim, plus `resources`
 * (the set's size) and per-container `env`, `ports` and `labels` in `options`.
 * The TypeBox schema below is the single source for validation and OpenAPI.
 */
import { Type, type Static } from '@sinclair/typebox';

export const NAME_PATTERN = '^[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?$';
export const APPKEY_PATTERN = '^[a-z0-9]([a-z0-9_.-]{0,126}[a-z0-9])?$';

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

export const ResourcesSpec = Type.Object(
  {
    cpu: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1024, description: 'CPU cores (default 1)' })),
    memory: Type.Optional(Quantity),
    disk: Type.Optional(Quantity),
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

export const SetSpec = Type.Object(
  {
    version: Type.Optional(Type.String()),
    id: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: NAME_PATTERN })], {
      description: 'Set id, unique within the appkey',
    }),
    appkey: Type.String({ pattern: APPKEY_PATTERN }),
    resources: Type.Optional(ResourcesSpec),
    placement: Type.Optional(PlacementSpec),
    containers: Type.Array(ContainerSpec, { minItems: 1, maxItems: 32 }),
  },
  { additionalProperties: false, $id: 'SetSpec' },
);

export type SetSpec = Static<typeof SetSpec>;
export type ContainerSpec = Static<typeof ContainerSpec>;
export type PortSpec = Static<typeof PortSpec>;
