/**
 * Tenant quotas: limits on the CPU, memory and disk of a tenant's sets, their number,
 * their platform IPs and the apps with a load balancer frontend.
 *
 * Admission happens in the transaction of the change: `admitQuota` reads the tenant's
 * fence key, sums the tenant's usage, refuses what would pass a limit (403
 * QUOTA_EXCEEDED naming the resource, what is used, what is asked and the limit), and
 * returns a compare on the fence plus a put of it for the caller's txn. Two changes that
 * read the same usage cannot both commit: the second fails its compare and is admitted
 * again against the new usage. Only changes that add usage touch the fence; removals
 * make any admission in flight conservative, never wrong. A tenant without a quota
 * costs nothing: no fence, no sums.
 */
import type { Compare, Op, Store } from '@wharf/store';
import {
  formatBytes, parseBytes, QUOTA_RESOURCES, resolveSetSpec, setSpecFromTemplate, WharfError,
  type AppObject, type QuotaAmounts, type QuotaResource, type QuotaSpec, type QuotaView, type SetObject, type SetSpec,
} from '@wharf/types';
import { countsTowardReplicas, inWarmPool } from './apps.js';
import { loadNetworks, wantedIps, type NetworkIndex } from './ipam.js';
import { Keys } from './keys.js';

export type Usage = Record<QuotaResource, number>;

/** No usage at all (spread it and set what a change adds). */
export const NOTHING: Readonly<Usage> = { cpu: 0, memory: 0, disk: 0, sets: 0, ips: 0, lbPorts: 0 };
const zero = (): Usage => ({ ...NOTHING });

/** The limits as numbers (cores, bytes, counts). */
export function quotaLimits(spec: QuotaSpec): QuotaAmounts {
  const out: QuotaAmounts = {};
  for (const r of QUOTA_RESOURCES) {
    const v = spec[r];
    if (v === undefined) continue;
    const n = r === 'memory' || r === 'disk' ? parseBytes(v) : Number(v);
    if (n === undefined || !Number.isFinite(n)) throw WharfError.validation([{ path: r, message: `"${v}" is not an amount` }]);
    out[r] = n;
  }
  return out;
}

export async function getQuota(store: Store, tenant: string): Promise<QuotaAmounts | undefined> {
  return (await store.get<QuotaAmounts>(Keys.quota(tenant)))?.value;
}

/** What one set holds. `nets` only when IPs are counted. */
export function setUsage(spec: SetSpec, nets?: NetworkIndex): Usage {
  const u = zero();
  const r = resolveSetSpec(spec);
  if (r.ok) {
    u.cpu = r.set.cpu;
    u.memory = r.set.memoryBytes;
    u.disk = r.set.diskBytes;
  }
  u.sets = 1;
  if (nets) u.ips = wantedIps(spec, nets).wants.length;
  return u;
}

function add(a: Usage, b: Usage): Usage {
  const out = { ...a };
  for (const r of QUOTA_RESOURCES) out[r] = a[r] + b[r];
  return out;
}

/**
 * The tenant's usage: its sets not being deleted, its apps with a load balancer. IPs
 * (counted when `nets` is given): those a set holds, assigned when it is placed, and
 * for a set not placed yet those its spec will take.
 */
export async function tenantUsage(store: Store, tenant: string, nets?: NetworkIndex): Promise<Usage> {
  const [sets, apps] = await Promise.all([store.list<SetObject>(Keys.tenantSets(tenant)), store.list<AppObject>(Keys.tenantApps(tenant))]);
  let used = zero();
  for (const kv of sets.items) {
    if (kv.value.deleting) continue;
    const u = setUsage(kv.value.spec);
    u.ips = !nets ? 0 : kv.value.ips ? kv.value.ips.length : wantedIps(kv.value.spec, nets).wants.length;
    used = add(used, u);
  }
  used.lbPorts = apps.items.filter((kv) => !kv.value.deleting && kv.value.spec.lb !== undefined).length;
  return used;
}

const UNITS: Record<QuotaResource, (n: number) => string> = {
  cpu: (n) => `${Math.round(n * 1000) / 1000} cores`,
  memory: formatBytes,
  disk: formatBytes,
  sets: (n) => `${n} sets`,
  ips: (n) => `${n} IPs`,
  lbPorts: (n) => `${n} LB ports`,
};

export interface Admission {
  compares: Compare[];
  ops: Op[];
}

const NO_QUOTA: Admission = { compares: [], ops: [] };

/**
 * Admits adding `delta` (per unit, `times` units) to the tenant's usage, or throws
 * QUOTA_EXCEEDED. `what` says what asks, for the message ("set web/3", "app web: 5 more sets").
 */
export async function admitQuota(store: Store, tenant: string, delta: (nets?: NetworkIndex) => Usage, what: string, times = 1): Promise<Admission> {
  const limits = await getQuota(store, tenant);
  if (!limits || QUOTA_RESOURCES.every((r) => limits[r] === undefined)) return NO_QUOTA;
  const fence = await store.get(Keys.quotaFence(tenant));
  const countIps = limits.ips !== undefined;
  const nets = countIps ? await loadNetworks(store) : undefined;
  const used = await tenantUsage(store, tenant, nets);
  const asked = delta(nets);
  for (const r of QUOTA_RESOURCES) {
    const limit = limits[r];
    if (limit === undefined || asked[r] <= 0) continue;
    const after = used[r] + asked[r] * times;
    if (after > limit + 1e-9) {
      throw new WharfError('QUOTA_EXCEEDED', `${what} would pass tenant "${tenant}"'s ${r} quota: ${UNITS[r](used[r])} used + ${UNITS[r](asked[r] * times)} asked > ${UNITS[r](limit)}`, {
        tenant, resource: r, used: used[r], requested: asked[r] * times, limit,
      });
    }
  }
  return {
    compares: [fence ? { key: fence.key, modRevision: fence.modRevision } : { key: Keys.quotaFence(tenant), absent: true }],
    ops: [{ type: 'put', key: Keys.quotaFence(tenant), value: { at: new Date().toISOString() } }],
  };
}

/** A set's usage less what it held before (a spec change): only increases are admitted. */
export function usageChange(before: SetSpec, after: SetSpec): (nets?: NetworkIndex) => Usage {
  return (nets) => {
    const a = setUsage(after, nets);
    const b = setUsage(before, nets);
    const d = zero();
    for (const r of QUOTA_RESOURCES) d[r] = Math.max(0, a[r] - b[r]);
    return d;
  };
}

export async function quotaView(store: Store, tenant: string): Promise<QuotaView> {
  return { tenant, limits: (await getQuota(store, tenant)) ?? {}, used: await tenantUsage(store, tenant, await loadNetworks(store)) };
}

/**
 * Would scaling the app to `replicas` fit the tenant's quota? For answers at once to a
 * scale request; the apps controller admits each set it creates in the creating
 * transaction (`admitAppSets`). Sets of the warm pool already hold their share: a scale
 * they can serve needs no room. Without a quota nothing is read.
 */
export async function admitAppScale(store: Store, app: AppObject, replicas: number): Promise<void> {
  if (!(await getQuota(store, app.tenant))) return;
  const sets = await store.list<SetObject>(Keys.appSets(app.tenant, app.appkey));
  await admitAppSets(store, app, replicas - sets.items.filter((kv) => countsTowardReplicas(kv.value) || inWarmPool(kv.value)).length);
}

/** Admits `more` new sets of the app (its template's size each). */
export async function admitAppSets(store: Store, app: AppObject, more: number): Promise<Admission> {
  if (more <= 0) return NO_QUOTA;
  return admitQuota(store, app.tenant, (nets) => setUsage(setSpecFromTemplate(app.spec, 1), nets), `app ${app.appkey}: ${more} more set${more === 1 ? '' : 's'}`, more);
}
