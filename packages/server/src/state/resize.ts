/**
 * Online resize, the pure part: a ResizeRequest applied to a set spec (checked
 * like an apply, by resolveSetSpec) and what changed, in words for the set's events.
 */
import {
  WharfError,
  formatBytes,
  parseBytes,
  resolveSetSpec,
  type FieldError,
  type ResizeRequest,
  type ResolvedSet,
  type SetSpec,
} from '@wharf/types';
import { sizeQuantity } from './volumes.js';

/** A size field of the request, in bytes. */
function bytesOf(value: string | number | undefined, path: string, errors: FieldError[]): number | undefined {
  if (value === undefined) return undefined;
  const bytes = parseBytes(value);
  if (bytes === undefined || bytes < 1) {
    errors.push({ path, message: `"${String(value)}" is not a size (use e.g. 512Mi, 2Gi, 50Gi)` });
    return undefined;
  }
  return bytes;
}

function resolved(spec: SetSpec, admit = false): ResolvedSet {
  const r = resolveSetSpec(spec, { admit });
  if (!r.ok) throw WharfError.validation(r.errors);
  return r.set;
}

/** The container entries of the request, checked against the spec's containers. */
function checkContainers(spec: SetSpec, req: ResizeRequest, setName: string, errors: FieldError[]): void {
  const names = spec.containers.map((c) => c.options.name);
  const seen = new Set<string>();
  (req.containers ?? []).forEach((c, i) => {
    if (!names.includes(c.name)) {
      throw new WharfError('CONTAINER_NOT_FOUND', `containers[${i}].name: no container "${c.name}" in set ${setName} (it has ${names.join(', ')})`, {
        container: c.name,
        path: `containers[${i}].name`,
        containers: names,
      });
    }
    if (seen.has(c.name)) errors.push({ path: `containers[${i}].name`, message: `"${c.name}" is listed twice` });
    seen.add(c.name);
    if (c.cpu === undefined && c.mem === undefined) errors.push({ path: `containers[${i}]`, message: `give cpu or mem (percent of the set's size) for "${c.name}"` });
  });
}

/**
 * The spec with the request's new size, or undefined when no limit would change.
 * Set-wide values are written only where they differ from what the spec resolves
 * to, and a container's percentage where it differs from what the spec states, so
 * percentages left unstated keep sharing what the others leave. Throws
 * VALIDATION_FAILED naming the field (the same rules as an apply, e.g. percentages
 * summing to more than 100) and CONTAINER_NOT_FOUND.
 */
export function resizedSpec(spec: SetSpec, req: ResizeRequest, setName: string): SetSpec | undefined {
  const errors: FieldError[] = [];
  if (req.cpu === undefined && req.memory === undefined && req.disk === undefined && !req.containers?.length) {
    errors.push({ path: '(root)', message: 'nothing to resize: give cpu, memory, disk or containers' });
  }
  const memory = bytesOf(req.memory, 'memory', errors);
  const disk = bytesOf(req.disk, 'disk', errors);
  checkContainers(spec, req, setName, errors);
  if (errors.length > 0) throw WharfError.validation(errors);

  const now = resolved(spec);
  const resources = { ...spec.resources };
  if (req.cpu !== undefined && req.cpu !== now.cpu) resources.cpu = req.cpu;
  if (memory !== undefined && memory !== now.memoryBytes) resources.memory = sizeQuantity(memory);
  if (disk !== undefined && disk !== now.diskBytes) resources.disk = sizeQuantity(disk);
  const asked = new Map((req.containers ?? []).map((c) => [c.name, c]));
  const next: SetSpec = {
    ...spec,
    resources,
    containers: spec.containers.map((c) => {
      const want = asked.get(c.options.name);
      if (!want) return c;
      return { ...c, options: { ...c.options, ...(want.cpu !== undefined ? { cpu: want.cpu } : {}), ...(want.mem !== undefined ? { mem: want.mem } : {}) } };
    }),
  };
  const after = resolved(next, true);
  return resizeChanges(now, after).length > 0 ? next : undefined;
}

function cores(n: number): string {
  return String(Number(n.toFixed(3)));
}

/** What a resize changes, as "cpu 1 → 2", "memory 1Gi → 2Gi", "web cpu 50% → 60%". */
export function resizeChanges(before: ResolvedSet, after: ResolvedSet): string[] {
  const out: string[] = [];
  if (before.cpu !== after.cpu) out.push(`cpu ${cores(before.cpu)} → ${cores(after.cpu)}`);
  if (before.memoryBytes !== after.memoryBytes) out.push(`memory ${formatBytes(before.memoryBytes)} → ${formatBytes(after.memoryBytes)}`);
  if (before.diskBytes !== after.diskBytes) out.push(`disk ${formatBytes(before.diskBytes)} → ${formatBytes(after.diskBytes)}`);
  for (const c of after.containers) {
    const was = before.containers.find((b) => b.name === c.name);
    if (!was) continue;
    if (was.cpuPct !== c.cpuPct) out.push(`${c.name} cpu ${was.cpuPct}% → ${c.cpuPct}%`);
    if (was.memPct !== c.memPct) out.push(`${c.name} mem ${was.memPct}% → ${c.memPct}%`);
  }
  return out;
}

/** `resizeChanges` of two specs that resolve (both were accepted). */
export function describeResize(before: SetSpec, after: SetSpec): string {
  const a = resolveSetSpec(before);
  const b = resolveSetSpec(after);
  return a.ok && b.ok ? resizeChanges(a.set, b.set).join(', ') : 'new size';
}
