/**
 * Apps: all sets of one appkey, kept at a replica count from a set template, and
 * their endpoints (the naming service). The apps controller creates and drains
 * sets; the autoscaler changes `replicas` within the bounds of the `autoscale`
 * field (autoscale.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FieldError } from './errors.js';
import { APPKEY_PATTERN } from './patterns.js';
import { BatchSize } from './rollout.js';
import { ContainerSpec, PlacementSpec, ResourcesSpec, SetNetworkSpec, type SetSpec } from './set-spec.js';
import { SetPhase } from './objects.js';
import { resolveSetSpec, schemaFieldErrors } from './resolve.js';
import { AutoscaleSpec, autoscaleErrors } from './autoscale.js';

export const MAX_REPLICAS = 10_000;
export const DEFAULT_DRAIN_SECONDS = 5;

/** The set spec without `id` and `appkey`: the app gives each set its own id. */
export const SetTemplate = Type.Object(
  {
    version: Type.Optional(Type.String()),
    resources: Type.Optional(ResourcesSpec),
    placement: Type.Optional(PlacementSpec),
    network: Type.Optional(SetNetworkSpec),
    containers: Type.Array(ContainerSpec, { minItems: 1, maxItems: 32 }),
  },
  { additionalProperties: false, description: 'A set spec without id and appkey' },
);
export type SetTemplate = Static<typeof SetTemplate>;

export const ScaleInPolicy = Type.Union([Type.Literal('newest-first'), Type.Literal('least-loaded')], {
  description: 'Which sets leave first: the newest, or those using the least CPU (default newest-first)',
});
export type ScaleInPolicy = Static<typeof ScaleInPolicy>;

export const ScaleInSpec = Type.Object(
  {
    policy: Type.Optional(ScaleInPolicy),
    drainSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600, description: 'Seconds a leaving set stays out of the endpoints before it is stopped, and a set a rollout changes before its container is replaced (default 5)' })),
  },
  { additionalProperties: false },
);

export const AppUpdateSpec = Type.Object(
  {
    batch: Type.Optional(BatchSize),
    maxUnavailable: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_REPLICAS, description: 'Default maxUnavailable of the app\'s rollouts' })),
  },
  { additionalProperties: false, description: 'Defaults for the app\'s rollouts' },
);

export const DEFAULT_LB_SLOTS = 64;

export const LbSpec = Type.Object(
  {
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'The port HAProxy listens on for the app' }),
    targetPort: Type.Integer({ minimum: 1, maximum: 65535, description: 'A containerPort of the template that receives the traffic' }),
    bind: Type.Optional(Type.String({ description: 'The address HAProxy binds (default 0.0.0.0)' })),
    maxSets: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096, description: 'Backend slots, the most sets that take traffic at once (default 64)' })),
  },
  { additionalProperties: false, description: 'A load balancer frontend for the app, kept equal to its ready endpoints' },
);
export type LbSpec = Static<typeof LbSpec>;

export const AppSpec = Type.Object(
  {
    appkey: Type.String({ pattern: APPKEY_PATTERN }),
    template: SetTemplate,
    replicas: Type.Integer({ minimum: 0, maximum: MAX_REPLICAS, description: 'How many sets the app keeps (not counting sets that are leaving)' }),
    warmPool: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_REPLICAS, description: 'Standby sets kept beyond replicas, created, started and paused: a scale-out resumes them first (milliseconds each), then creates the rest; the pool is refilled behind it (default 0)' })),
    scaleIn: Type.Optional(ScaleInSpec),
    update: Type.Optional(AppUpdateSpec),
    lb: Type.Optional(LbSpec),
    autoscale: Type.Optional(AutoscaleSpec),
  },
  { additionalProperties: false, $id: 'AppSpec' },
);
export type AppSpec = Static<typeof AppSpec>;

/** An app as stored. */
export const AppObject = Type.Object({
  tenant: Type.String(),
  appkey: Type.String(),
  spec: AppSpec,
  /** Increases whenever the spec changes (replicas included). */
  generation: Type.Integer(),
  /** Set by delete: its sets are deleted, then the app is forgotten. */
  deleting: Type.Optional(Type.Boolean()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type AppObject = Static<typeof AppObject>;

/** One set of an app, as the app's view lists it. */
export const AppSet = Type.Object({
  id: Type.String(),
  status: SetPhase,
  ready: Type.Boolean(),
  host: Type.Optional(Type.String()),
  /** The primary platform IP. */
  ip: Type.Optional(Type.String()),
  /** ISO time the set started draining (it is leaving). */
  draining: Type.Optional(Type.String()),
  /** ISO time a rollout took the set out of the endpoints (its batch drains, then changes). */
  outOfRotation: Type.Optional(Type.String()),
  /** In the app's warm pool: started, paused, resumed by the next scale-out. */
  standby: Type.Optional(Type.Boolean()),
  message: Type.Optional(Type.String()),
  createdAt: Type.String(),
});
export type AppSet = Static<typeof AppSet>;

export const AppView = Type.Object({
  tenant: Type.String(),
  appkey: Type.String(),
  spec: AppSpec,
  generation: Type.Integer(),
  deleting: Type.Optional(Type.Boolean()),
  /** Wanted sets. */
  replicas: Type.Integer(),
  /** Sets that count toward replicas: neither draining nor being deleted. */
  current: Type.Integer(),
  /** Of those, the ready ones. */
  ready: Type.Integer(),
  /** Sets leaving: draining or being deleted. */
  leaving: Type.Integer(),
  /** Sets in the warm pool (not counted in current). */
  standby: Type.Integer(),
  /** Every set of the app by phase (`draining` for sets draining). */
  phases: Type.Record(Type.String(), Type.Integer()),
  message: Type.String(),
  sets: Type.Array(AppSet),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type AppView = Static<typeof AppView>;

export const ScaleRequest = Type.Object(
  {
    replicas: Type.Integer({ minimum: 0, maximum: MAX_REPLICAS }),
    warmPool: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_REPLICAS, description: 'Also sets the app\'s warm pool size' })),
  },
  { additionalProperties: false },
);
export type ScaleRequest = Static<typeof ScaleRequest>;

export const EndpointPort = Type.Object({
  containerPort: Type.Integer(),
  protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp')]),
  /** The container that declares the port. */
  container: Type.String(),
});
export type EndpointPort = Static<typeof EndpointPort>;

/** One set of an app as a load balancer sees it. */
export const Endpoint = Type.Object({
  set: Type.String({ description: 'Set id' }),
  host: Type.Optional(Type.String()),
  /** The set's primary platform IP; absent for a set without platform IPs (on Docker's own bridge, not reachable from outside its host). */
  ip: Type.Optional(Type.String()),
  ports: Type.Array(EndpointPort),
  /** Running at its current generation with every container ready. */
  ready: Type.Boolean(),
  /** Out of rotation now: leaving on scale-in (it stops after the app's drainSeconds), or about to have a container replaced by a rollout. */
  draining: Type.Boolean(),
});
export type Endpoint = Static<typeof Endpoint>;

export const Endpoints = Type.Object({
  tenant: Type.String(),
  appkey: Type.String(),
  /** Identifies the content: equal revisions mean equal endpoints (not ordered; pass it back to watch). */
  revision: Type.Integer(),
  endpoints: Type.Array(Endpoint),
});
export type Endpoints = Static<typeof Endpoints>;

export const LbSlot = Type.Object({
  server: Type.String({ description: 'The slot, s1 … sN' }),
  set: Type.Optional(Type.String({ description: 'The set the slot serves' })),
  addr: Type.String(),
  port: Type.Integer(),
  state: Type.Union([Type.Literal('ready'), Type.Literal('drain'), Type.Literal('maint')], { description: 'ready: takes new connections; drain: finishes its connections, takes none; maint: free' }),
});
export type LbSlot = Static<typeof LbSlot>;

/** An app's load balancer as HAProxy reports it. */
export const LbView = Type.Object({
  appkey: Type.String(),
  frontend: LbSpec,
  backend: Type.String({ description: "HAProxy's backend name" }),
  /** False while HAProxy is not running (the load balancer is off, or starting). */
  running: Type.Boolean(),
  slots: Type.Array(LbSlot),
});
export type LbView = Static<typeof LbView>;

export const AppEvent = Type.Object({
  time: Type.String(),
  type: Type.Union([Type.Literal('Normal'), Type.Literal('Warning')]),
  reason: Type.String(),
  message: Type.String(),
});
export type AppEvent = Static<typeof AppEvent>;

/** The spec without its template: its fields are checked here, the template by resolveSetSpec. */
const AppShape = Type.Object(
  { ...AppSpec.properties, template: Type.Unknown() },
  { additionalProperties: false },
);

function templateErrors(template: unknown, appkey: string): FieldError[] {
  if (typeof template !== 'object' || template === null || Array.isArray(template)) return [{ path: 'template', message: 'must be an object (a set spec without id and appkey)' }];
  const t = template as Record<string, unknown>;
  const errors: FieldError[] = [];
  if ('id' in t) errors.push({ path: 'template.id', message: 'the app numbers its sets itself (1, 2, 3 …); leave it out' });
  if ('appkey' in t) errors.push({ path: 'template.appkey', message: "the app's appkey is used; leave it out" });
  const r = resolveSetSpec({ ...t, id: 1, appkey }, { admit: true });
  if (!r.ok) errors.push(...r.errors.filter((e) => e.path !== 'id' && e.path !== 'appkey').map((e) => ({ path: `template.${e.path}`, message: e.message })));
  const net = (t.network ?? {}) as { ip?: unknown; extra?: { ip?: unknown }[] };
  const shared = 'a fixed IP cannot be shared by the app\'s sets; leave it out (each set gets its own)';
  if (net.ip !== undefined) errors.push({ path: 'template.network.ip', message: shared });
  if (Array.isArray(net.extra)) net.extra.forEach((x, i) => x?.ip !== undefined && errors.push({ path: `template.network.extra[${i}].ip`, message: shared }));
  return errors;
}

function lbErrors(doc: Record<string, unknown>): FieldError[] {
  const lb = doc.lb as { targetPort?: unknown } | undefined;
  const t = doc.template as { containers?: { options?: { ports?: { containerPort?: unknown }[] } }[] } | undefined;
  if (typeof lb !== 'object' || lb === null || typeof lb.targetPort !== 'number' || !Array.isArray(t?.containers)) return [];
  // Runs on specs that failed the schema too (every error is reported at once): ports may be anything.
  const declared = t.containers.some((c) => Array.isArray(c?.options?.ports) && c.options.ports.some((p) => p?.containerPort === lb.targetPort));
  return declared ? [] : [{ path: 'lb.targetPort', message: `${lb.targetPort} is not a containerPort of the template` }];
}

export type AppResolveResult = { ok: true; spec: AppSpec } | { ok: false; errors: FieldError[] };

/** Validates an app spec; field errors are named as written (`template.containers[0].image`). Never throws. */
export function resolveAppSpec(input: unknown): AppResolveResult {
  const errors = schemaFieldErrors(AppShape, input);
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const doc = input as Record<string, unknown>;
    if ('template' in doc) errors.push(...templateErrors(doc.template, typeof doc.appkey === 'string' ? doc.appkey : 'app'));
    if (errors.length === 0 && doc.autoscale !== undefined) errors.push(...autoscaleErrors(doc.autoscale as AutoscaleSpec).map((e) => ({ ...e, path: `autoscale.${e.path}` })));
    errors.push(...lbErrors(doc));
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, spec: input as AppSpec };
}

/** The spec of the app's set `id`, from its template. */
export function setSpecFromTemplate(spec: AppSpec, id: number): SetSpec {
  return { ...structuredClone(spec.template), appkey: spec.appkey, id };
}
