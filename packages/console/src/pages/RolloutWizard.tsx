/**
 * Starting a rollout in three steps on one form: the container (one of the
 * template's), the new image, and how the sets are taken in batches. The last
 * line says what will happen before the button does it.
 */
import { useState } from 'react';
import { DEFAULT_BATCH, batchSizeOf, type AppView, type RolloutRequest } from '@wharf/types';
import { useAction } from '../api.js';
import { Field, FormError } from '../components/Field.js';
import { fieldErrors } from '../components/States.js';
import { useSession } from '../session.js';
import { textNum } from './AppFields.js';

const PATHS = ['container', 'image', 'set', 'batch', 'maxUnavailable', 'timeoutSeconds'];

/** '3' → 3, '25%' stays a percentage; '' → the app's default. */
function batchValue(s: string): RolloutRequest['batch'] {
  const t = s.trim();
  return t === '' ? undefined : /^\d+$/.test(t) ? Number(t) : t;
}

/** Sets per batch and batches for `sets` sets (the server's rule: a percentage rounds up, at least 1). */
function batching(batch: RolloutRequest['batch'], sets: number): { size: number; count: number } {
  const size = batchSizeOf(batch ?? DEFAULT_BATCH, sets);
  return { size, count: Math.max(1, Math.ceil(sets / size)) };
}

export function RolloutWizard({ app, onStarted }: { app: AppView; onStarted: () => void }) {
  const { client } = useSession();
  const action = useAction();
  const containers = app.spec.template.containers;
  const [container, setContainer] = useState(containers[0]?.options.name ?? '');
  const [image, setImage] = useState('');
  const [set, setSet] = useState('');
  const [batch, setBatch] = useState('');
  const [maxUnavailable, setMaxUnavailable] = useState('');
  const [timeout, setTimeoutSeconds] = useState('');
  const [pauseAfterFirst, setPauseAfterFirst] = useState(false);
  const [autoRollback, setAutoRollback] = useState(false);
  const errors = fieldErrors(action.error);
  const current = containers.find((c) => c.options.name === container)?.image;
  const sets = set ? 1 : app.sets.filter((s) => !s.standby && !s.draining).length;
  const defaultBatch = app.spec.update?.batch;
  const plan = batching(batchValue(batch) ?? defaultBatch, sets);

  const start = async () => {
    const mu = textNum(maxUnavailable);
    const to = textNum(timeout);
    const b = batchValue(batch);
    const req: RolloutRequest = {
      container, image: image.trim(),
      ...(set ? { set } : {}), ...(b !== undefined ? { batch: b } : {}), ...(mu !== undefined ? { maxUnavailable: mu } : {}),
      ...(to !== undefined ? { timeoutSeconds: to } : {}), ...(pauseAfterFirst ? { pauseAfterFirst } : {}), ...(autoRollback ? { autoRollback } : {}),
    };
    if (await action.run(() => client.startRollout(app.appkey, req))) {
      setImage('');
      onStarted();
    }
  };

  return (
    <form
      className="rollout-wizard"
      aria-label="New rollout"
      onSubmit={(e) => {
        e.preventDefault();
        void start();
      }}
    >
      <FormError error={action.error} paths={PATHS} />
      <fieldset>
        <legend>1. Container</legend>
        <Field label="Container" path="container" errors={errors} hint={current && `now ${current}`}>
          <select value={container} onChange={(e) => setContainer(e.target.value)}>
            {containers.map((c) => (
              <option key={c.options.name} value={c.options.name}>
                {c.options.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Sets" path="set" errors={errors}>
          <select value={set} onChange={(e) => setSet(e.target.value)}>
            <option value="">All sets of the app</option>
            {app.sets.map((s) => (
              <option key={s.id} value={s.id}>
                Only set {s.id}
              </option>
            ))}
          </select>
        </Field>
      </fieldset>
      <fieldset>
        <legend>2. Image</legend>
        <Field label="Image" path="image" errors={errors}>
          <input type="text" required value={image} placeholder={current} onChange={(e) => setImage(e.target.value)} />
        </Field>
      </fieldset>
      <fieldset>
        <legend>3. Batches</legend>
        <div className="toolbar">
          <Field label="Batch size" path="batch" errors={errors} hint="sets, or a percentage such as 25%">
            <input type="text" value={batch} placeholder={String(defaultBatch ?? '25%')} onChange={(e) => setBatch(e.target.value)} />
          </Field>
          <Field label="Max unavailable" path="maxUnavailable" errors={errors}>
            <input type="number" min={1} value={maxUnavailable} placeholder={String(app.spec.update?.maxUnavailable ?? 'batch size')} onChange={(e) => setMaxUnavailable(e.target.value)} />
          </Field>
          <Field label="Batch timeout (s)" path="timeoutSeconds" errors={errors}>
            <input type="number" min={5} value={timeout} placeholder="300" onChange={(e) => setTimeoutSeconds(e.target.value)} />
          </Field>
        </div>
        <label className="check">
          <input type="checkbox" checked={pauseAfterFirst} onChange={(e) => setPauseAfterFirst(e.target.checked)} /> Pause after the first batch
        </label>
        <label className="check">
          <input type="checkbox" checked={autoRollback} onChange={(e) => setAutoRollback(e.target.checked)} /> Roll back by itself when a batch fails
        </label>
      </fieldset>
      <p className="muted">
        {image.trim()
          ? `${container}: ${current ?? '?'} → ${image.trim()} on ${sets} set${sets === 1 ? '' : 's'}, ${plan.size} per batch (${plan.count} batch${plan.count === 1 ? '' : 'es'})${pauseAfterFirst ? ', pausing after the first' : ''}.`
          : 'Give the new image.'}
      </p>
      <button type="submit" className="primary" disabled={action.busy || !container}>
        {action.busy ? 'Starting…' : 'Start rollout'}
      </button>
    </form>
  );
}
