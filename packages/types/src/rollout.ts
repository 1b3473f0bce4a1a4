/**
 * Gray (canary) image updates: one container of every set of an app (or of one set)
 * gets a new image, batch by batch. Inside a set only that container is replaced;
 * each batch must be ready before the next starts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { NAME_PATTERN } from './patterns.js';

/** "25%" of the sets, or a number of sets. */
export const BatchSize = Type.Union([Type.Integer({ minimum: 1, maximum: 10_000 }), Type.String({ pattern: '^([1-9][0-9]?|100)%$' })], {
  description: 'Sets per batch: a number, or a percentage of the sets such as "25%" (default "25%")',
});

export const DEFAULT_BATCH = '25%';

/** "25%" of `total` sets (rounded up, at least 1), or a number of sets. */
export function batchSizeOf(batch: number | string, total: number): number {
  if (typeof batch === 'number') return batch;
  const percent = /^(\d+)%$/.exec(batch.trim());
  if (!percent) return Math.max(1, Number(batch) || 1);
  return Math.max(1, Math.ceil((total * Number(percent[1])) / 100));
}

export const RolloutRequest = Type.Object(
  {
    container: Type.String({ pattern: NAME_PATTERN, description: 'The container (options.name) whose image changes' }),
    image: Type.String({ minLength: 1 }),
    set: Type.Optional(Type.String({ pattern: NAME_PATTERN, description: 'Only this set of the app' })),
    batch: Type.Optional(BatchSize),
    pauseAfterFirst: Type.Optional(Type.Boolean({ description: 'Pause after the first batch is ready (resume to go on)' })),
    maxUnavailable: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'At most this many sets of the app not ready at a time (default: the batch size)' })),
    autoRollback: Type.Optional(Type.Boolean({ description: 'When a batch fails, put the previous image back on every set already changed' })),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 5, maximum: 86_400, description: 'A batch not ready within this many seconds fails (default 300)' })),
  },
  { additionalProperties: false },
);
export type RolloutRequest = Static<typeof RolloutRequest>;

export const RolloutState = Type.Union([
  Type.Literal('running'), Type.Literal('paused'), Type.Literal('succeeded'), Type.Literal('failed'),
  Type.Literal('rolling-back'), Type.Literal('rolled-back'),
]);
export type RolloutState = Static<typeof RolloutState>;

/** One set's part in a rollout. */
export const RolloutTarget = Type.Object({
  id: Type.String({ description: 'Set id' }),
  /** The image the container had before. */
  from: Type.String(),
  state: Type.Union([Type.Literal('waiting'), Type.Literal('updating'), Type.Literal('updated'), Type.Literal('failed'), Type.Literal('rolling-back'), Type.Literal('rolled-back')]),
  batch: Type.Optional(Type.Integer({ description: 'Batch number (1-based) once the set is in one' })),
  message: Type.Optional(Type.String()),
});
export type RolloutTarget = Static<typeof RolloutTarget>;

export const Rollout = Type.Object({
  tenant: Type.String(),
  appkey: Type.String(),
  /** 1, 2, 3 … per app. */
  number: Type.Integer(),
  container: Type.String(),
  image: Type.String(),
  set: Type.Optional(Type.String()),
  batchSize: Type.Integer(),
  maxUnavailable: Type.Integer(),
  pauseAfterFirst: Type.Boolean(),
  autoRollback: Type.Boolean(),
  timeoutSeconds: Type.Integer(),
  state: RolloutState,
  /** The batch in progress (1-based); 0 before the first. */
  batch: Type.Integer(),
  batches: Type.Integer(),
  batchStartedAt: Type.Optional(Type.String()),
  targets: Type.Array(RolloutTarget),
  message: Type.Optional(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  finishedAt: Type.Optional(Type.String()),
});
export type Rollout = Static<typeof Rollout>;
