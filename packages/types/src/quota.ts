/** Per-tenant quotas (`/v1/quotas/{tenant}`): limits, and what the tenant uses. */
import { Type, type Static } from '@sinclair/typebox';

const Bytes = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?([KMGTP]i?)?$' })], { description: 'bytes, or a quantity like 16Gi' });

/** What a platform admin sets; a resource left out has no limit. */
export const QuotaSpec = Type.Object({
  cpu: Type.Optional(Type.Number({ minimum: 0, maximum: 1e6, description: 'cores, summed over the sets' })),
  memory: Type.Optional(Bytes),
  disk: Type.Optional(Bytes),
  sets: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e7 })),
  ips: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e7, description: 'platform IPs held by sets' })),
  lbPorts: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'apps with a load balancer frontend' })),
}, { additionalProperties: false });
export type QuotaSpec = Static<typeof QuotaSpec>;

/** Amounts of each resource: cores, bytes, counts. */
export const QuotaAmounts = Type.Object({
  cpu: Type.Optional(Type.Number()),
  memory: Type.Optional(Type.Number()),
  disk: Type.Optional(Type.Number()),
  sets: Type.Optional(Type.Integer()),
  ips: Type.Optional(Type.Integer()),
  lbPorts: Type.Optional(Type.Integer()),
});
export type QuotaAmounts = Static<typeof QuotaAmounts>;
export type QuotaResource = keyof QuotaAmounts;
export const QUOTA_RESOURCES: QuotaResource[] = ['cpu', 'memory', 'disk', 'sets', 'ips', 'lbPorts'];

export const QuotaView = Type.Object({
  tenant: Type.String(),
  /** The limits (absent: unlimited). */
  limits: QuotaAmounts,
  /** What the tenant's sets and apps hold now (sets being deleted do not count). */
  used: QuotaAmounts,
});
export type QuotaView = Static<typeof QuotaView>;
