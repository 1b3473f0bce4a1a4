/**
 * Online resize of a running set: new CPU, memory and disk for the set, and new
 * percentages for some of its containers. Applied with `docker update` and the
 * volume driver: no container is recreated or restarted.
 */
import { Type, type Static } from '@sinclair/typebox';
import { NAME_PATTERN } from './patterns.js';
import { Quantity } from './set-spec.js';

export const ContainerResize = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN }),
    cpu: Type.Optional(Type.Number({ minimum: 1, maximum: 100, description: "Percent of the set's CPU cores" })),
    mem: Type.Optional(Type.Number({ minimum: 1, maximum: 100, description: "Percent of the set's memory" })),
  },
  { additionalProperties: false },
);
export type ContainerResize = Static<typeof ContainerResize>;

export const ResizeRequest = Type.Object(
  {
    cpu: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1024, description: 'CPU cores of the set' })),
    memory: Type.Optional(Quantity),
    disk: Type.Optional(Quantity),
    containers: Type.Optional(Type.Array(ContainerResize, { minItems: 1, maxItems: 32 })),
    moveIfNeeded: Type.Optional(Type.Boolean({ description: 'When the host cannot fit the new size, move the set (only a set without a volume, or relocatable) to a host that can' })),
  },
  { additionalProperties: false },
);
export type ResizeRequest = Static<typeof ResizeRequest>;
