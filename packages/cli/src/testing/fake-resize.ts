/**
 * The fake server's resize (`POST /v1/sets/{appkey}/{id}/resize`): the request is
 * applied to the spec and checked with the real resolveSetSpec; hosts have 8 cores,
 * and with moveIfNeeded a set without a volume moves to h2. The pretend agent
 * reports the limits the spec resolves to (`limitsOf`).
 */
import { formatBytes, resolveSetSpec, type ContainerStatus, type ResizeRequest, type SetSpec, type SetView } from '@wharf/types';

export const FAKE_HOST_CORES = 8;

type Reply = { status: number; body: unknown };

const fail = (status: number, code: string, message: string, details?: unknown): Reply => ({ status, body: { error: { code, message, ...(details ? { details } : {}) } } });

/** What the pretend agent reports for a container of `spec`: Docker's NanoCpus and Memory. */
export function limitsOf(spec: SetSpec, name: string): Pick<ContainerStatus, 'nanoCpus' | 'memory'> {
  const r = resolveSetSpec(spec);
  const c = r.ok ? r.set.containers.find((x) => x.name === name) : undefined;
  return c ? { nanoCpus: c.nanoCpus, memory: c.memoryBytes } : {};
}

function size(q: string | number | undefined): string | undefined {
  return q === undefined ? undefined : typeof q === 'number' ? formatBytes(q) : q;
}

/** Applies the resize to `set` (in place) and answers what the server would. */
export function fakeResize(set: SetView, req: ResizeRequest): Reply {
  const name = `${set.appkey}/${set.id}`;
  const names = set.spec.containers.map((c) => c.options.name);
  const missing = (req.containers ?? []).findIndex((c) => !names.includes(c.name));
  if (missing >= 0) {
    const container = req.containers?.[missing]?.name;
    return fail(404, 'CONTAINER_NOT_FOUND', `containers[${missing}].name: no container "${container}" in set ${name} (it has ${names.join(', ')})`, { container, containers: names });
  }
  const memory = size(req.memory);
  const disk = size(req.disk);
  const spec: SetSpec = {
    ...set.spec,
    resources: { ...set.spec.resources, ...(req.cpu !== undefined ? { cpu: req.cpu } : {}), ...(memory ? { memory } : {}), ...(disk ? { disk } : {}) },
    containers: set.spec.containers.map((c) => {
      const want = req.containers?.find((x) => x.name === c.options.name);
      return want ? { ...c, options: { ...c.options, ...(want.cpu !== undefined ? { cpu: want.cpu } : {}), ...(want.mem !== undefined ? { mem: want.mem } : {}) } } : c;
    }),
  };
  const r = resolveSetSpec(spec);
  if (!r.ok) return fail(400, 'VALIDATION_FAILED', `${r.errors[0]?.path}: ${r.errors[0]?.message}`, { errors: r.errors });
  const before = resolveSetSpec(set.spec);
  if (before.ok && JSON.stringify(before.set) === JSON.stringify(r.set)) return { status: 200, body: set };
  const relocatable = !spec.containers.some((c) => (c.options.volumes ?? []).length > 0);
  const moves = r.set.cpu > FAKE_HOST_CORES;
  if (moves && (!req.moveIfNeeded || !relocatable)) {
    const why = `host ${set.host ?? 'h1'} cannot fit the new size of set ${name}: insufficient cpu: requested ${r.set.cpu} cores, free ${FAKE_HOST_CORES} cores`;
    return fail(409, 'INSUFFICIENT_RESOURCES', req.moveIfNeeded ? `${why}; the set has a local volume, so it cannot move to another host` : why, { host: set.host, relocatable });
  }
  set.spec = spec;
  set.generation++;
  set.resources = { cpu: r.set.cpu, memory: r.set.memoryBytes, disk: r.set.diskBytes };
  if (!moves) return { status: 200, body: set };
  const answer = { ...structuredClone(set), status: 'pending' as const };
  delete answer.host;
  set.host = 'h2';
  return { status: 200, body: answer };
}
