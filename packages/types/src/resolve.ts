/**
 * Validation and resolution of a set spec into the concrete limits the agent
 * enforces. Server (admission) and agent (runtime) call the same function, so what
 * is accepted is exactly what runs.
 */
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value, type ValueError, ValueErrorType } from '@sinclair/typebox/value';
import type { FieldError } from './errors.js';
import { formatBytes, parseBytes } from './quantity.js';
import { SetSpec, type PortSpec } from './set-spec.js';
import { INFRA_NAME } from './labels.js';
import { parseIpv4 } from './ipv4.js';
import { resolveProbe, type ResolvedProbe, type RestartPolicy } from './probe.js';
import { capabilityErrors, resolveSecurity, type ResolvedSecurity } from './security.js';

export const DEFAULT_RESOURCES = { cpu: 1, memory: '1Gi', disk: '1Gi' } as const;
/** Docker refuses a memory limit below 6 MiB: the floor a stored set still runs with. */
export const DOCKER_MIN_MEMORY = 6 * 1024 * 1024;
/**
 * The floor for a new or resized container. runc's init process is charged to the
 * container's memory cgroup before the container's command runs and needs about 14 MiB;
 * under 16 MiB it can be OOM-killed at start ("cannot start a stopped process").
 */
export const MIN_CONTAINER_MEMORY = 16 * 1024 * 1024;
const GiB = 1024 ** 3;

export interface ResolvedContainer {
  index: number;
  name: string;
  image: string;
  cpuPct: number;
  memPct: number;
  /** Docker's NanoCpus: cores × 1e9 × cpu% / 100. */
  nanoCpus: number;
  /** Docker's Memory, in bytes. */
  memoryBytes: number;
  volumePaths: string[];
  entrypoint?: string[];
  args?: string[];
  env: Record<string, string>;
  ports: PortSpec[];
  labels: Record<string, string>;
  restartPolicy: RestartPolicy;
  liveness?: ResolvedProbe;
  readiness?: ResolvedProbe;
  /** Added capabilities and no-new-privileges, beyond the default hardening. */
  security: ResolvedSecurity;
}

export interface ResolvedSet {
  appkey: string;
  id: string;
  cpu: number;
  memoryBytes: number;
  diskBytes: number;
  /** Mbit/s limits; a direction without a limit is absent. */
  bandwidth: { egress?: number; ingress?: number };
  /** Sorted by index: the start order. */
  containers: ResolvedContainer[];
}

export type ResolveResult = { ok: true; spec: SetSpec; set: ResolvedSet } | { ok: false; errors: FieldError[] };

/** `/containers/1/options/cpu` → `containers[1].options.cpu` */
export function jsonPointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function describeSchemaError(e: ValueError): string {
  const s = e.schema as Record<string, unknown>;
  const min = s.minimum ?? s.exclusiveMinimum;
  switch (e.type) {
    case ValueErrorType.Number:
      return 'must be a number';
    case ValueErrorType.Integer:
      return 'must be a whole number';
    case ValueErrorType.String:
      return 'must be a string';
    case ValueErrorType.Array:
      return 'must be a list';
    case ValueErrorType.Object:
      return 'must be an object';
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
      return s.maximum !== undefined && min !== undefined ? `must be ${String(min)}..${String(s.maximum)}` : e.message;
    case ValueErrorType.StringPattern:
      return `"${String(e.value)}" is not valid (lowercase letters, digits, '.', '_' and '-'; must match ${String(s.pattern)})`;
    case ValueErrorType.StringMinLength:
      return 'must not be empty';
    case ValueErrorType.ArrayMinItems:
      return `needs at least ${String(s.minItems)} item(s)`;
    case ValueErrorType.ArrayMaxItems:
      return `allows at most ${String(s.maxItems)} items`;
    case ValueErrorType.Union: {
      const kinds = ((s.anyOf ?? []) as { type?: string; const?: unknown; pattern?: string }[]).map((b) =>
        b.const !== undefined ? JSON.stringify(b.const) : b.pattern?.endsWith('%$') ? 'a percentage such as "25%"' : (b.type ?? '?'));
      return `must be ${[...new Set(kinds)].join(' or ')}`;
    }
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.ObjectAdditionalProperties:
      return 'unknown field';
    default:
      return e.message.toLowerCase();
  }
}

/**
 * Compiled checkers by schema. Every reconcile of every set on an agent and every write
 * on the server validates a spec; walking the schema for errors costs a hundred times a
 * compiled check, so errors are looked for only when the check fails.
 */
const checkers = new WeakMap<TSchema, TypeCheck<TSchema>>();

function passes(schema: TSchema, input: unknown): boolean {
  let checker = checkers.get(schema);
  if (!checker) {
    checker = TypeCompiler.Compile(schema);
    checkers.set(schema, checker);
  }
  return checker.Check(input);
}

/** Structural errors of `input` against `schema`, one per path (named as written: `containers[0].image`), most specific first. */
export function schemaFieldErrors(schema: TSchema, input: unknown): FieldError[] {
  if (passes(schema, input)) return [];
  const seen = new Map<string, FieldError>();
  for (const e of Value.Errors(schema, input)) {
    // A union reports the union itself and each branch; keep the first message per path.
    // TypeBox reports an unknown field at the field's own path.
    const path = jsonPointerToPath(e.path);
    if (!seen.has(path)) seen.set(path, { path: path || '(root)', message: describeSchemaError(e) });
  }
  const all = [...seen.values()];
  // When a child is wrong, its parent union's "expected union value" adds nothing.
  return all.filter((a) => !all.some((b) => b !== a && b.path.startsWith(`${a.path}.`)));
}

function share(specified: (number | undefined)[]): number[] | string {
  const used = specified.reduce<number>((s, v) => s + (v ?? 0), 0);
  if (used > 100) return `percentages sum to ${used}; they may not exceed 100`;
  const missing = specified.filter((v) => v === undefined).length;
  if (missing === 0) return specified as number[];
  const rest = (100 - used) / missing;
  if (rest < 1) return `nothing is left for containers without a value (the others use ${used}%)`;
  return specified.map((v) => v ?? Math.floor(rest * 100) / 100);
}

function quantity(value: string | number | undefined, fallback: string, path: string, errors: FieldError[]): number {
  const bytes = parseBytes(value ?? fallback);
  if (bytes === undefined || bytes <= 0) {
    errors.push({ path, message: `"${String(value)}" is not a size (use e.g. 512Mi, 1Gi, 2G)` });
    return 0;
  }
  return bytes;
}

export interface ResolveOptions {
  /**
   * A spec being written (create, apply, resize, an app's template): each container needs
   * MIN_CONTAINER_MEMORY. Without it, a stored spec is read with Docker's own floor, so a
   * set admitted under an older, lower floor still resolves, reserves and runs.
   */
  admit?: boolean;
}

/** Validates `input` (a parsed JSON/YAML document) and computes limits. Never throws. */
export function resolveSetSpec(input: unknown, opts: ResolveOptions = {}): ResolveResult {
  const structural = schemaFieldErrors(SetSpec, input);
  if (structural.length > 0) return { ok: false, errors: structural };
  const spec = input as SetSpec;
  const errors: FieldError[] = [];

  const cpu = spec.resources?.cpu ?? DEFAULT_RESOURCES.cpu;
  const memoryBytes = quantity(spec.resources?.memory, DEFAULT_RESOURCES.memory, 'resources.memory', errors);
  const diskBytes = quantity(spec.resources?.disk, DEFAULT_RESOURCES.disk, 'resources.disk', errors);

  const indexes = new Map<number, number>();
  const names = new Map<string, number>();
  spec.containers.forEach((c, i) => {
    const dupIndex = indexes.get(c.index);
    if (dupIndex !== undefined) errors.push({ path: `containers[${i}].index`, message: `${c.index} is already used by containers[${dupIndex}]` });
    indexes.set(c.index, i);
    const dupName = names.get(c.options.name);
    if (dupName !== undefined) errors.push({ path: `containers[${i}].options.name`, message: `"${c.options.name}" is already used by containers[${dupName}]` });
    names.set(c.options.name, i);
    if (c.options.name === INFRA_NAME) errors.push({ path: `containers[${i}].options.name`, message: `"${INFRA_NAME}" is reserved for the set's infra container` });
    for (const key of Object.keys(c.options.labels ?? {})) {
      if (key.startsWith('wharf.')) errors.push({ path: `containers[${i}].options.labels.${key}`, message: 'the "wharf." prefix is reserved' });
    }
    c.options.volumes?.forEach((v, j) => {
      // The mount point is a directory inside the container: not its root, not walking up.
      if (v.path === '/' || v.path.split('/').some((part) => part === '..' || part === '.')) {
        errors.push({ path: `containers[${i}].options.volumes[${j}].path`, message: `"${v.path}" must be an absolute directory below / without "." or ".." parts (e.g. /data)` });
      }
      if (typeof v.quota === 'string' && parseBytes(v.quota) === undefined) {
        errors.push({ path: `containers[${i}].options.volumes[${j}].quota`, message: `"${v.quota}" is not a size (use e.g. 10Gi, or a number of GiB)` });
      }
    });
    for (const kind of ['liveness', 'readiness'] as const) {
      const probe = c.options[kind];
      if (probe && !resolveProbe(probe)) errors.push({ path: `containers[${i}].options.${kind}`, message: 'needs exactly one of exec, http and tcp' });
    }
    errors.push(...capabilityErrors(c.options.security?.capAdd, `containers[${i}].options.security.capAdd`));
    const hostPorts = new Set<string>();
    c.options.ports?.forEach((p, j) => {
      const key = `${p.containerPort}/${p.protocol ?? 'tcp'}`;
      if (hostPorts.has(key)) errors.push({ path: `containers[${i}].options.ports[${j}]`, message: `port ${key} is listed twice` });
      hostPorts.add(key);
    });
  });

  if (spec.network?.ip !== undefined && parseIpv4(spec.network.ip) === undefined) errors.push({ path: 'network.ip', message: `"${spec.network.ip}" is not an IPv4 address` });
  spec.network?.extra?.forEach((x, i) => {
    if (x.ip !== undefined && parseIpv4(x.ip) === undefined) errors.push({ path: `network.extra[${i}].ip`, message: `"${x.ip}" is not an IPv4 address` });
  });

  const cpuShares = share(spec.containers.map((c) => c.options.cpu));
  if (typeof cpuShares === 'string') errors.push({ path: 'containers[].options.cpu', message: cpuShares });
  const memShares = share(spec.containers.map((c) => c.options.mem));
  if (typeof memShares === 'string') errors.push({ path: 'containers[].options.mem', message: memShares });
  if (errors.length > 0 || typeof cpuShares === 'string' || typeof memShares === 'string') return { ok: false, errors };

  const containers: ResolvedContainer[] = spec.containers.map((c, i) => {
    const cpuPct = cpuShares[i] ?? 100;
    const memPct = memShares[i] ?? 100;
    const mem = Math.floor((memoryBytes * memPct) / 100);
    const floor = opts.admit ? MIN_CONTAINER_MEMORY : DOCKER_MIN_MEMORY;
    if (mem < floor) {
      const where = memPct === 100 ? "the set's memory" : `${memPct}% of the set's memory`;
      errors.push({ path: memPct === 100 ? 'resources.memory' : `containers[${i}].options.mem`, message: `${where} is ${formatBytes(mem)}; a container needs at least ${formatBytes(floor)} (runc's start-up is charged to it)` });
    }
    return {
      index: c.index,
      name: c.options.name,
      image: c.image,
      cpuPct,
      memPct,
      nanoCpus: Math.round(cpu * 1e9 * cpuPct / 100),
      memoryBytes: mem,
      volumePaths: (c.options.volumes ?? []).map((v) => v.path),
      ...(c.options.command ? { entrypoint: [c.options.command.cmd], args: c.options.command.args ?? [] } : {}),
      env: c.options.env ?? {},
      ports: c.options.ports ?? [],
      labels: c.options.labels ?? {},
      restartPolicy: c.options.restartPolicy ?? 'always',
      ...(c.options.liveness ? { liveness: resolveProbe(c.options.liveness)! } : {}),
      ...(c.options.readiness ? { readiness: resolveProbe(c.options.readiness)! } : {}),
      security: resolveSecurity(c.options.security),
    };
  });
  if (errors.length > 0) return { ok: false, errors };

  // A set's volume is as large as its biggest declared quota, or resources.disk.
  const quotas = spec.containers.flatMap((c) => c.options.volumes ?? []).map((v) =>
    typeof v.quota === 'number' ? Math.floor(v.quota * GiB) : v.quota ? (parseBytes(v.quota) ?? 0) : 0,
  );
  const disk = spec.resources?.disk !== undefined ? diskBytes : Math.max(diskBytes, ...quotas);

  containers.sort((a, b) => a.index - b.index);
  const bw = spec.resources?.bandwidth;
  const bandwidth = typeof bw === 'number' ? { egress: bw, ingress: bw } : { ...(bw?.egress ? { egress: bw.egress } : {}), ...(bw?.ingress ? { ingress: bw.ingress } : {}) };
  return { ok: true, spec, set: { appkey: spec.appkey, id: String(spec.id), cpu, memoryBytes, diskBytes: disk, bandwidth, containers } };
}
